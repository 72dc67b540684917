// What the chaos suite checks once the load is over, from what the database, the effects file and the
// model server recorded: every task completed with the right output and none was lost; each tool side
// effect happened once, except where a worker died inside the tool; no model request was repeated once
// its answer had been checkpointed.
import { quartersIn } from '../support/analyst-scenario.ts';
import type { ChaosTaskParams, ToolSideEffect } from './chaos-scenario.ts';

export interface ChaosFindings {
  readonly tasks: number;
  readonly completed: number;
  /** Tasks not completed when the load ended, with their state. */
  readonly lost: string[];
  readonly wrongOutput: string[];
  /** Tool bodies executed (side effects recorded). */
  readonly toolExecutions: number;
  /** Distinct tool calls. */
  readonly toolCalls: number;
  /** Extra executions of a tool call whose earlier executions all ran in workers that were killed. */
  readonly cutInsideTool: number;
  /** Extra executions whose earlier executions ran while the database was being disrupted (their checkpoint could not be written). */
  readonly cutByDisruption: number;
  readonly unexplainedDuplicates: string[];
  readonly missingEffects: string[];
  readonly modelRequests: number;
  /** Requests answered again because the worker that got the first answer died before checkpointing it. */
  readonly reaskedAfterKill: number;
  readonly repeatedAfterCheckpoint: string[];
}

/** Every broken promise, one line each; empty when the run upheld them all. */
export function findViolations(findings: ChaosFindings): string[] {
  const list = (label: string, items: string[]) => (items.length === 0 ? [] : [`${label} (${items.length}): ${items.slice(0, 5).join('; ')}`]);
  return [
    ...list('tasks lost', findings.lost),
    ...list('tasks with the wrong output', findings.wrongOutput),
    ...list('tool side effects repeated by a live worker', findings.unexplainedDuplicates),
    ...list('tasks whose tool calls did not all run', findings.missingEffects),
    ...list('model requests repeated after their answer was checkpointed', findings.repeatedAfterCheckpoint),
  ];
}

// A tool that finished just before the database went away could not write its checkpoint either.
const disruptionLeadMs = 2_000;

/** A stored task, as read back after the load. */
export interface StoredTask {
  readonly task_id: string;
  readonly state: string;
  readonly completed_payload: { text?: unknown } | null;
}

/** A committed checkpoint: its JSON text and when it was written (ms since the epoch). */
export interface StoredCheckpoint {
  readonly state: string;
  readonly written_at: number;
}

/** Everything a chaos run recorded. */
export interface ChaosRecords {
  taskIDs: string[];
  params: ChaosTaskParams[];
  expected: Map<string, string>;
  effects: ToolSideEffect[];
  killedPids: Set<number>;
  /** Times (Date.now()) when the database was down or restarting. */
  disruptions: Array<{ from: number; to: number }>;
  /** Model requests in order of arrival. */
  requests: Array<{ arrivedAt: number; completed: boolean; responseId: string | undefined; key: string }>;
  tasks: StoredTask[];
  checkpoints: StoredCheckpoint[];
}

export function analyseChaos(input: ChaosRecords): ChaosFindings {
  const stored = new Map(input.tasks.map((row) => [row.task_id, row]));
  const lost: string[] = [];
  const wrongOutput: string[] = [];
  input.taskIDs.forEach((taskID, index) => {
    const row = stored.get(taskID);
    if (!row || row.state !== 'completed') lost.push(`${taskID} (${row?.state ?? 'missing'})`);
    else if (row.completed_payload?.text !== input.expected.get(input.params[index]!.prompt)) {
      wrongOutput.push(`${taskID}: ${JSON.stringify(row.completed_payload).slice(0, 200)}`);
    }
  });

  // Tool side effects: one execution per tool call, or more only when every earlier one ran in a killed worker.
  const executions = new Map<string, ToolSideEffect[]>();
  for (const effect of input.effects) {
    const key = `${effect.taskID}/${effect.toolCallId}`;
    executions.set(key, [...(executions.get(key) ?? []), effect]);
  }
  let cutInsideTool = 0;
  let cutByDisruption = 0;
  const unexplainedDuplicates: string[] = [];
  const duringDisruption = (at: number) =>
    input.disruptions.some((window) => at >= window.from - disruptionLeadMs && at <= window.to);
  for (const [key, runs] of executions) {
    const earlier = runs.slice(0, -1);
    if (earlier.every((run) => input.killedPids.has(run.pid))) cutInsideTool += earlier.length;
    else if (earlier.every((run) => input.killedPids.has(run.pid) || duringDisruption(run.at))) cutByDisruption += earlier.length;
    else unexplainedDuplicates.push(`${key} ran ${runs.length} times (pids ${runs.map((run) => run.pid).join(', ')})`);
  }
  const missingEffects: string[] = [];
  input.taskIDs.forEach((taskID, index) => {
    const expectedCalls = quartersIn(input.params[index]!.prompt).length + 1;
    const calls = [...executions.keys()].filter((key) => key.startsWith(`${taskID}/`)).length;
    if (stored.get(taskID)?.state === 'completed' && calls !== expectedCalls) {
      missingEffects.push(`${taskID}: ${calls} tool calls ran, ${expectedCalls} expected`);
    }
  });

  // Model requests: none may arrive after a checkpoint holding that request's answer was written.
  const checkpointedAt = (responseId: string) => {
    let earliest = Number.POSITIVE_INFINITY;
    for (const row of input.checkpoints) {
      if (row.state.includes(responseId)) earliest = Math.min(earliest, Number(row.written_at));
    }
    return earliest;
  };
  const writtenAt = new Map<string, number>();
  const repeatedAfterCheckpoint: string[] = [];
  const seen = new Set<string>();
  let reaskedAfterKill = 0;
  for (const request of input.requests) {
    if (!request.responseId) continue;
    if (!writtenAt.has(request.responseId)) writtenAt.set(request.responseId, checkpointedAt(request.responseId));
    if (request.arrivedAt > writtenAt.get(request.responseId)! + 2) {
      repeatedAfterCheckpoint.push(`${request.responseId} asked again ${Math.round(request.arrivedAt - writtenAt.get(request.responseId)!)} ms after its checkpoint`);
    }
    if (request.completed) {
      if (seen.has(request.key)) reaskedAfterKill += 1;
      seen.add(request.key);
    }
  }
  return {
    tasks: input.taskIDs.length,
    completed: input.taskIDs.length - lost.length,
    lost,
    wrongOutput,
    toolExecutions: input.effects.length,
    toolCalls: executions.size,
    cutInsideTool,
    cutByDisruption,
    unexplainedDuplicates,
    missingEffects,
    modelRequests: input.requests.length,
    reaskedAfterKill,
    repeatedAfterCheckpoint,
  };
}

