// Reads what happened to tasks straight from Absurd's per-queue tables (`absurd.t_<queue>`, `r_<queue>`,
// `c_<queue>`) across every queue in `absurd.queues`, and classifies each checkpoint with the agent layer's
// `describeCheckpoint`: the data behind `ai-sdk-absurd runs`, `ai-sdk-absurd show` and the demo's evidence.
import { approvalInput } from '../approvals/approval-row.ts';
import { isTaskID } from '../client/task-id.ts';
import { describeCheckpoint, type CheckpointDescription } from '../agent/checkpoint-format.ts';
import type { Queryable } from '../db/database.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { queueTable } from '../db/queue-table.ts';

export interface TaskSummary {
  readonly queueName: string;
  readonly taskID: string;
  readonly taskName: string;
  readonly state: string;
  readonly attempts: number;
  readonly enqueuedAt: Date;
  readonly firstStartedAt: Date | null;
  /** When the last run completed or failed, or when the task was cancelled. */
  readonly finishedAt: Date | null;
  readonly modelCalls: number;
  readonly toolCalls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface RunRecord {
  readonly runID: string;
  readonly attempt: number;
  readonly state: string;
  readonly workerID: string | null;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly failureReason: unknown;
}

export interface TimelineEntry {
  readonly checkpoint: CheckpointDescription;
  /** The attempt that wrote the checkpoint (null when its run is gone). */
  readonly attempt: number | null;
  readonly ownerRunID: string | null;
  readonly writtenAt: Date;
  /** Later attempts that started with this checkpoint already stored, so replayed it instead of redoing it. */
  readonly replayedOn: readonly number[];
}

export interface ApprovalRecord {
  readonly requestId: string;
  readonly toolCallId: string;
  readonly toolName: string;
  readonly input: unknown;
  readonly requestedAt: Date;
  readonly decidedAt: Date | null;
  readonly approved: boolean | null;
  readonly reason: string | null;
  readonly decidedBy: string | null;
}

export interface TaskTimeline {
  readonly task: TaskSummary;
  readonly params: unknown;
  readonly result: unknown;
  readonly runs: readonly RunRecord[];
  readonly entries: readonly TimelineEntry[];
  readonly approvals: readonly ApprovalRecord[];
}

export async function listQueueNames(database: Queryable): Promise<string[]> {
  const { rows } = await database.query<{ queue_name: string }>('select queue_name from absurd.queues order by queue_name');
  return rows.map((row) => row.queue_name);
}

/** The queues to look in: all of them, or the one asked for, which must exist. */
export async function queuesToRead(database: Queryable, queue: string | undefined): Promise<string[]> {
  const queues = await listQueueNames(database);
  if (queue === undefined) return queues;
  if (!queues.includes(queue)) {
    throw new ConfigurationError({
      setting: 'queue',
      message: `There is no queue "${queue}" in this database. Its queues: ${queues.length > 0 ? queues.join(', ') : 'none'}.`,
    });
  }
  return [queue];
}

/** Where a task lives and where it stands: what `cancel` and `retry` check before they act. */
export interface TaskLocation {
  readonly queueName: string;
  readonly taskID: string;
  readonly taskName: string;
  readonly state: string;
  readonly attempts: number;
  readonly maxAttempts: number | null;
}

/** The queue holding a task (only `queue` when given), or undefined when none does or the id is not a task id. */
export async function locateTask(database: Queryable, taskID: string, options: { queue?: string } = {}): Promise<TaskLocation | undefined> {
  if (!isTaskID(taskID)) return undefined;
  for (const queueName of await queuesToRead(database, options.queue)) {
    const { rows } = await database.query<{ task_name: string; state: string; attempts: number; max_attempts: number | null }>(
      `select task_name, state, attempts, max_attempts from ${queueTable('t', queueName)} where task_id = $1::uuid`,
      [taskID],
    );
    const row = rows[0];
    if (row) {
      return { queueName, taskID, taskName: row.task_name, state: row.state, attempts: row.attempts, maxAttempts: row.max_attempts };
    }
  }
  return undefined;
}

/** The most recently enqueued tasks of one queue or of all queues, newest first. */
export async function listRecentTasks(
  database: Queryable,
  options: { queue?: string; limit?: number; state?: string } = {},
): Promise<TaskSummary[]> {
  const limit = options.limit ?? 20;
  const queues = await queuesToRead(database, options.queue);
  const summaries: TaskSummary[] = [];
  for (const queueName of queues) {
    const { rows } = await database.query<TaskRow>(
      selectTaskRows(
        queueName,
        'where ($1::text is null or t.state = $1) order by t.enqueue_at desc, t.task_id desc limit $2',
      ),
      [options.state ?? null, limit],
    );
    const checkpoints = await readCheckpoints(database, queueName, rows.map((row) => row.task_id));
    for (const row of rows) summaries.push(summarise(queueName, row, checkpoints.get(row.task_id) ?? []));
  }
  return summaries
    .sort((left, right) => right.enqueuedAt.getTime() - left.enqueuedAt.getTime() || right.taskID.localeCompare(left.taskID))
    .slice(0, limit);
}

/** Everything recorded about one task, or undefined when no queue holds it. */
export async function readTaskTimeline(
  database: Queryable,
  taskID: string,
  options: { queue?: string } = {},
): Promise<TaskTimeline | undefined> {
  if (!isTaskID(taskID)) return undefined;
  const queues = await queuesToRead(database, options.queue);
  for (const queueName of queues) {
    const { rows } = await database.query<TaskRow>(selectTaskRows(queueName, 'where t.task_id = $1::uuid'), [taskID]);
    const row = rows[0];
    if (!row) continue;
    const { rows: runRows } = await database.query<RunRow>(
      `select run_id::text as run_id, attempt, state, claimed_by, started_at, completed_at, failed_at, failure_reason
       from ${queueTable('r', queueName)} where task_id = $1::uuid order by attempt, created_at`,
      [taskID],
    );
    const checkpoints = (await readCheckpoints(database, queueName, [taskID], { full: true })).get(taskID) ?? [];
    const runs = runRows.map(toRunRecord);
    const startedAttempts = runs.filter((run) => run.startedAt !== null).map((run) => run.attempt);
    const attemptOf = new Map(runs.map((run) => [run.runID, run.attempt]));
    const entries = checkpoints.map((checkpoint): TimelineEntry => {
      const attempt = checkpoint.owner_attempt ?? (checkpoint.owner_run_id ? attemptOf.get(checkpoint.owner_run_id) : undefined);
      return {
        checkpoint: describeCheckpoint(checkpoint.checkpoint_name, checkpoint.state),
        attempt: attempt ?? null,
        ownerRunID: checkpoint.owner_run_id,
        writtenAt: checkpoint.updated_at,
        replayedOn: attempt === undefined ? [] : startedAttempts.filter((later) => later > attempt),
      };
    });
    return {
      task: summarise(queueName, row, checkpoints),
      params: row.params,
      result: row.completed_payload,
      runs,
      entries,
      approvals: await readApprovals(database, taskID),
    };
  }
  return undefined;
}

interface TaskRow {
  task_id: string;
  task_name: string;
  state: string;
  attempts: number;
  enqueue_at: Date;
  first_started_at: Date | null;
  cancelled_at: Date | null;
  finished_at: Date | null;
  params: unknown;
  completed_payload: unknown;
}

/** The columns of a `TaskRow` from one queue's task table (alias `t`), with `rest` after its from clause. */
function selectTaskRows(queueName: string, rest: string): string {
  return `select t.task_id::text as task_id, t.task_name, t.state, t.attempts, t.enqueue_at, t.first_started_at,
                 t.cancelled_at, t.params, t.completed_payload,
                 (select max(coalesce(r.completed_at, r.failed_at)) from ${queueTable('r', queueName)} r
                   where r.task_id = t.task_id) as finished_at
          from ${queueTable('t', queueName)} t ${rest}`;
}

interface RunRow {
  run_id: string;
  attempt: number;
  state: string;
  claimed_by: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  failed_at: Date | null;
  failure_reason: unknown;
}

interface CheckpointRow {
  task_id: string;
  checkpoint_name: string;
  state: unknown;
  owner_run_id: string | null;
  owner_attempt: number | null;
  updated_at: Date;
}

/**
 * Committed checkpoints of some tasks in the order they were written. Listings leave out the stored responses and
 * tool outputs (only the summary fields are needed); a timeline keeps failed tool calls whole to show their error.
 */
async function readCheckpoints(
  database: Queryable,
  queueName: string,
  taskIDs: string[],
  options: { full?: boolean } = {},
): Promise<Map<string, CheckpointRow[]>> {
  const byTask = new Map<string, CheckpointRow[]>();
  if (taskIDs.length === 0) return byTask;
  const state = options.full
    ? `case when c.state->>'outcome' = 'error' then c.state
            when jsonb_typeof(c.state) = 'object' then c.state - 'response' - 'value' else c.state end`
    : `case when jsonb_typeof(c.state) = 'object' then c.state - 'response' - 'value' else c.state end`;
  const { rows } = await database.query<CheckpointRow>(
    `select c.task_id::text as task_id, c.checkpoint_name, ${state} as state, c.owner_run_id::text as owner_run_id,
            c.owner_attempt, c.updated_at
     from ${queueTable('c', queueName)} c
     where c.task_id = any(string_to_array($1, ',')::uuid[]) and c.status = 'committed'
     order by c.updated_at, c.checkpoint_name`,
    [taskIDs.join(',')],
  );
  for (const row of rows) {
    const list = byTask.get(row.task_id) ?? [];
    list.push(row);
    byTask.set(row.task_id, list);
  }
  return byTask;
}

function summarise(queueName: string, row: TaskRow, checkpoints: CheckpointRow[]): TaskSummary {
  let modelCalls = 0;
  let toolCalls = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  for (const checkpoint of checkpoints) {
    const description = describeCheckpoint(checkpoint.checkpoint_name, checkpoint.state);
    if (description.type === 'model-call') {
      modelCalls += 1;
      inputTokens += description.usage.inputTokens ?? 0;
      outputTokens += description.usage.outputTokens ?? 0;
    } else if (description.type === 'tool-call') {
      toolCalls += 1;
    }
  }
  return {
    queueName,
    taskID: row.task_id,
    taskName: row.task_name,
    state: row.state,
    attempts: row.attempts,
    enqueuedAt: row.enqueue_at,
    firstStartedAt: row.first_started_at,
    finishedAt: row.state === 'cancelled' ? row.cancelled_at : ['completed', 'failed'].includes(row.state) ? row.finished_at : null,
    modelCalls,
    toolCalls,
    inputTokens,
    outputTokens,
  };
}

function toRunRecord(row: RunRow): RunRecord {
  return {
    runID: row.run_id,
    attempt: row.attempt,
    state: row.state,
    workerID: row.claimed_by,
    startedAt: row.started_at,
    finishedAt: row.completed_at ?? row.failed_at,
    failureReason: row.failure_reason,
  };
}

async function readApprovals(database: Queryable, taskID: string): Promise<ApprovalRecord[]> {
  const { rows: present } = await database.query<{ present: boolean }>(
    "select to_regclass('ai_sdk_absurd.tool_approvals') is not null as present",
  );
  if (!present[0]?.present) return [];
  const { rows } = await database.query<{
    request_id: string;
    tool_call_id: string;
    tool_name: string;
    input: unknown;
    input_codec: number | null;
    requested_at: Date;
    decided_at: Date | null;
    approved: boolean | null;
    reason: string | null;
    decided_by: string | null;
  }>(
    `select request_id::text as request_id, tool_call_id, tool_name, input, input_codec, requested_at, decided_at, approved, reason, decided_by
     from ai_sdk_absurd.tool_approvals where task_id = $1::uuid order by requested_at, tool_call_id`,
    [taskID],
  );
  return rows.map((row) => ({
    requestId: row.request_id,
    toolCallId: row.tool_call_id,
    toolName: row.tool_name,
    input: approvalInput(row),
    requestedAt: row.requested_at,
    decidedAt: row.decided_at,
    approved: row.approved,
    reason: row.reason,
    decidedBy: row.decided_by,
  }));
}
