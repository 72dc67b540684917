// Turns what the two worker processes reported, what the database recorded and what the model server saw into
// checks a reader can verify: every model call answered once, no tool run twice, the second attempt replaying
// the first one's checkpoints.
import type { TaskTimeline } from '../history/task-history.ts';
import type { DemoEvent } from './demo-events.ts';

export interface DemoCheck {
  readonly passed: boolean;
  readonly text: string;
}

export interface DemoEvidenceInput {
  readonly firstWorker: readonly DemoEvent[];
  readonly secondWorker: readonly DemoEvent[];
  readonly timeline: TaskTimeline;
  /** Lines of the notes file the `recordNote` tool appends to. */
  readonly noteLines: number;
  /** What the scripted model server recorded; absent with a real model. */
  readonly server?: { readonly answered: number; readonly repeated: number };
}

type Finished = Extract<DemoEvent, { type: 'model-call-finished' }>;
type ToolFinished = Extract<DemoEvent, { type: 'tool-finished' }>;

export function collectDemoChecks(input: DemoEvidenceInput): DemoCheck[] {
  const answered = (events: readonly DemoEvent[]) => events.filter((event): event is Finished => event.type === 'model-call-finished');
  const firstAnswered = answered(input.firstWorker);
  const secondAnswered = answered(input.secondWorker);
  const allAnswered = [...firstAnswered, ...secondAnswered];
  const repeatedCalls = allAnswered.length - new Set(allAnswered.map((event) => event.promptDigest)).size;
  const interrupted = input.firstWorker.filter((event) => event.type === 'model-call-started').length - firstAnswered.length;

  const toolRuns = [...input.firstWorker, ...input.secondWorker].filter((event): event is ToolFinished => event.type === 'tool-finished');
  const repeatedTools = toolRuns.length - new Set(toolRuns.map((event) => event.toolCallId)).size;
  const noteRuns = toolRuns.filter((event) => event.toolName === 'recordNote').length;

  const { timeline } = input;
  const secondAttempt = timeline.runs.at(-1)?.attempt ?? 0;
  const reused = timeline.entries.filter(
    (entry) => entry.attempt !== null && entry.attempt < secondAttempt && entry.replayedOn.includes(secondAttempt),
  );
  const reusedModels = reused.filter((entry) => entry.checkpoint.type === 'model-call').length;
  const reusedTools = reused.filter((entry) => entry.checkpoint.type === 'tool-call').length;
  const recordedModels = timeline.entries.filter((entry) => entry.checkpoint.type === 'model-call').length;

  const checks: DemoCheck[] = [
    {
      passed: timeline.task.state === 'completed',
      text: `the task ended "${timeline.task.state}" after ${timeline.task.attempts} attempts (attempt 1 died with worker 1)`,
    },
    {
      passed: repeatedCalls === 0 && allAnswered.length > 0,
      text:
        `model calls answered: ${allAnswered.length} (worker 1: ${firstAnswered.length}, worker 2: ${secondAnswered.length}); ` +
        `asked twice: ${repeatedCalls}` +
        (interrupted > 0 ? `; ${interrupted} call was cut off by the kill before its answer arrived, so worker 2 asked it` : ''),
    },
    {
      passed: recordedModels === allAnswered.length,
      text: `every answered model call is one checkpoint in the database (${recordedModels} model-call checkpoints)`,
    },
    {
      passed: reusedModels >= 1,
      text:
        `attempt ${secondAttempt} replayed ${reused.length} checkpoints written by attempt 1 (${plural(reusedModels, 'model call')}, ` +
        `${plural(reusedTools, 'tool call')}) instead of redoing them`,
    },
    {
      passed: repeatedTools === 0 && toolRuns.length > 0,
      text:
        `tool executions: ${toolRuns.length} (worker 1: ${countTools(input.firstWorker)}, ` +
        `worker 2: ${countTools(input.secondWorker)}); executed twice: ${repeatedTools}`,
    },
    {
      passed: noteRuns === input.noteLines && noteRuns >= 1,
      text: `side effect: recordNote ran ${plural(noteRuns, 'time')} and the notes file has ${plural(input.noteLines, 'line')}`,
    },
  ];
  if (input.server) {
    checks.push({
      passed: input.server.answered === allAnswered.length && input.server.repeated === 0,
      text: `the model server itself answered ${input.server.answered} requests and saw ${input.server.repeated} answered question asked again`,
    });
  }
  return checks;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function countTools(events: readonly DemoEvent[]): number {
  return events.filter((event) => event.type === 'tool-finished').length;
}
