import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { CheckpointDescription } from '../../agent/checkpoint-format.ts';
import { withClient, withDatabaseOption } from '../database-option.ts';
import { taskNotFoundError } from '../require-task.ts';
import { formatCount, formatDuration, formatJson, formatTime } from '../format-output.ts';
import type { Queryable } from '../../db/database.ts';
import { processExists } from '../../db/process-exists.ts';
import { listChildTasks, type ChildTask } from '../../history/task-children.ts';
import { locateTask, readTaskTimeline, type RunRecord, type TaskTimeline, type TimelineEntry } from '../../history/task-history.ts';

/** `show <taskID>`: one task's attempts, each checkpoint in the order written, approvals, and which steps were replayed. */
export function registerShowCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('show <taskID>')
      .description("print a task's timeline: model calls with tokens and duration, tool calls, approvals, replays")
      .option('--queue <name>', 'look only in this queue')
      .option('--json', 'print JSON'),
  ).action(async (taskID: string, options: { db?: string; queue?: string; json?: boolean }) => {
    await withClient(options, async (absurd) => {
      const timeline = await readTaskTimeline(absurd.database, taskID, { queue: options.queue });
      if (!timeline) throw taskNotFoundError(taskID, options);
      const children = await describeChildren(absurd.database, timeline.task.queueName, taskID);
      console.log(options.json ? JSON.stringify({ ...timeline, children }, null, 2) : renderTimeline(timeline, children));
    });
  });
}

/** A sub-agent child as `show` prints it: where it sits in the tree, and its state now. */
export interface ChildLine extends ChildTask {
  readonly taskName: string | null;
  readonly state: string | null;
}

async function describeChildren(database: Queryable, queueName: string, taskID: string): Promise<ChildLine[]> {
  const children = await listChildTasks(database, queueName, taskID);
  return Promise.all(
    children.map(async (child) => {
      const located = await locateTask(database, child.taskID, { queue: child.queueName });
      return { ...child, taskName: located?.taskName ?? null, state: located?.state ?? null };
    }),
  );
}

export function renderTimeline(timeline: TaskTimeline, children: readonly ChildLine[] = []): string {
  const { task } = timeline;
  const lines: string[] = [];
  lines.push(`Task ${task.taskID}  "${task.taskName}"  queue "${task.queueName}"`);
  lines.push(`  state ${task.state} after ${task.attempts} attempt${task.attempts === 1 ? '' : 's'}`);
  lines.push(`  enqueued ${formatTime(task.enqueuedAt)}, first started ${formatTime(task.firstStartedAt)}, finished ${formatTime(task.finishedAt)}`);
  lines.push(`  params ${formatJson(timeline.params)}`);
  lines.push('', 'Attempts');
  for (const run of timeline.runs) {
    const took =
      run.startedAt && run.finishedAt
        ? run.state === 'completed'
          ? `, took ${formatDuration(run.finishedAt.getTime() - run.startedAt.getTime())}`
          : `, ${run.state} ${formatTime(run.finishedAt)}`
        : '';
    lines.push(
      `  #${run.attempt}  ${run.state.padEnd(9)}  run ${run.runID}  worker ${run.workerID ?? '-'}  started ${formatTime(run.startedAt)}${took}`,
    );
    if (run.failureReason != null) lines.push(`      failure: ${describeFailure(run.failureReason, run, timeline.runs)}`);
  }
  lines.push('', 'Timeline (checkpoints in the order they were written)');
  if (timeline.entries.length === 0) lines.push('  no checkpoints yet');
  for (const entry of timeline.entries) lines.push(`  ${describeEntry(entry)}`);
  if (timeline.approvals.length > 0) {
    lines.push('', 'Approvals');
    for (const approval of timeline.approvals) {
      const verdict = `${approval.approved ? 'approved' : 'denied'}${approval.decidedBy === 'timeout' ? ' (timed out)' : ''}`;
      const decision = approval.decidedAt === null ? 'waiting' : `${verdict} at ${formatTime(approval.decidedAt)}`;
      const reason = approval.reason ? `: ${approval.reason}` : '';
      lines.push(`  ${approval.toolName} ${approval.toolCallId}  ${decision}${reason}  input ${formatJson(approval.input, 80)}`);
    }
  }
  if (children.length > 0) {
    lines.push('', 'Sub-agents (child tasks; indented under the child that spawned them)');
    for (const child of children) {
      const what = `${child.taskName ?? '?'}  ${child.state ?? 'removed'}  queue "${child.queueName}"`;
      lines.push(`${'  '.repeat(child.depth)}${child.taskID}  ${what}  from ${child.toolCallStep}`);
    }
  }
  const models = timeline.entries.filter((entry) => entry.checkpoint.type === 'model-call');
  const replayedModels = models.filter((entry) => entry.replayedOn.length > 0).length;
  lines.push(
    '',
    `Totals: ${plural(models.length, 'model call')} (${replayedModels} replayed from checkpoints by a later attempt), ` +
      `${formatCount(task.inputTokens)} input / ${formatCount(task.outputTokens)} output tokens, ${plural(task.toolCalls, 'tool call')}.`,
  );
  if (task.state === 'completed') lines.push(`Result: ${formatJson(timeline.result, 400)}`);
  return lines.join('\n');
}

function describeEntry(entry: TimelineEntry): string {
  const by = entry.attempt === null ? 'attempt ?' : `attempt ${entry.attempt}`;
  const replayed = entry.replayedOn.length > 0 ? `  [replayed on attempt ${entry.replayedOn.join(', ')}]` : '';
  return `${by}  ${describeStep(entry.checkpoint)}${replayed}`;
}

export function describeStep(checkpoint: CheckpointDescription): string {
  switch (checkpoint.type) {
    case 'model-call': {
      const ordinal = /model:(\d+)$/.exec(checkpoint.name)?.[1] ?? '?';
      const usage = `${formatCount(checkpoint.usage.inputTokens ?? 0)} in / ${formatCount(checkpoint.usage.outputTokens ?? 0)} out tokens`;
      const retries = checkpoint.attempts > 1 ? `, ${checkpoint.attempts} provider attempts` : '';
      return (
        `model call ${ordinal}  ${checkpoint.provider}/${checkpoint.modelId}  ${checkpoint.finishReason ?? '?'}  ` +
        `${usage}  ${formatDuration(checkpoint.durationMs)}${retries}  (${checkpoint.name})`
      );
    }
    case 'tool-call':
      return (
        `  tool ${checkpoint.toolName} ${checkpoint.toolCallId}  ${checkpoint.outcome === 'ok' ? 'ok' : `error: ${checkpoint.error ?? '?'}`}  ` +
        `${formatDuration(checkpoint.durationMs)}`
      );
    case 'mcp-tool-listing':
      return `MCP tool listing of "${checkpoint.clientName}"${checkpoint.toolCount === null ? '' : `: ${checkpoint.toolCount} tools`}`;
    case 'approval': {
      const tool = checkpoint.toolName ? `${checkpoint.toolName} ` : '';
      if (checkpoint.phase === 'requested') return `  approval requested for ${tool}${checkpoint.toolCallId}`;
      const verdict =
        checkpoint.approved === undefined
          ? ''
          : `: ${checkpoint.approved ? 'approved' : 'denied'}${checkpoint.decidedBy === 'timeout' ? ' (timed out)' : ''}`;
      const what = checkpoint.phase === 'delivered' ? 'decision delivered' : 'decision recorded';
      return `  ${what} for ${tool}${checkpoint.toolCallId}${verdict}`;
    }
    default:
      return `step ${checkpoint.name}`;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function describeFailure(reason: unknown, run: RunRecord, runs: readonly RunRecord[]): string {
  if (reason && typeof reason === 'object') {
    const record = reason as Record<string, unknown>;
    if (record.name === '$ClaimTimeout') return describeExpiredLease(String(record.workerId ?? run.workerID ?? '?'), run, runs);
    if (typeof record.message === 'string') return `${typeof record.name === 'string' ? `${record.name}: ` : ''}${record.message}`;
  }
  return formatJson(reason, 200);
}

/**
 * An expired lease says only that the worker did not renew it in time. Whether the worker was killed or was alive
 * (stalled, or cut off from the database) is stated only when there is evidence: the same worker claiming a later
 * attempt, or, for a worker on this host, whether its process still exists.
 */
export function describeExpiredLease(workerID: string, run: RunRecord, runs: readonly RunRecord[]): string {
  const expired = `lease expired: worker ${workerID} did not renew it in time`;
  const later = runs.find((other) => other.attempt > run.attempt && other.workerID === workerID);
  if (later) return `${expired}; the same worker claimed attempt ${later.attempt} afterwards, so it was alive (stalled, or cut off from the database)`;
  const separator = workerID.lastIndexOf(':');
  const pid = Number(workerID.slice(separator + 1));
  if (separator > 0 && workerID.slice(0, separator) === hostname() && Number.isInteger(pid) && pid > 0) {
    if (!processExists(pid)) return `${expired}; its process (pid ${pid} on this host) no longer exists: it was killed or crashed`;
    return `${expired}; a process with pid ${pid} still runs on this host, so the worker was probably alive (stalled, or cut off from the database)`;
  }
  return `${expired} (it was killed, stalled or cut off from the database; nothing recorded says which)`;
}
