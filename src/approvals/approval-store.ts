import type { Database, Queryable } from '../db/database.ts';
import { queueTable } from '../db/queue-table.ts';
import { ApprovalError } from '../errors/approval-error.ts';
import { fingerprint } from '../codec/fingerprint.ts';
import { validatePayload } from '../client/validate-payload.ts';
import {
  approvalEventName,
  type ApproveToolCallOptions,
  type PendingApproval,
  type ToolApprovalDecision,
} from './tool-approval.ts';

interface ApprovalRow {
  task_id: string;
  tool_call_id: string;
  queue_name: string;
  tool_name: string;
  input: unknown;
  input_digest: string;
  event_name: string;
  requested_at: Date;
  expires_at: Date | null;
  decided_at: Date | null;
  approved: boolean | null;
  reason: string | null;
  decided_by: 'person' | 'timeout' | null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const terminalStates = new Set(['completed', 'failed', 'cancelled']);

/** Records that a task waits for a decision on one tool call. Idempotent: a replay records nothing new. */
export async function recordApprovalRequest(
  queryable: Queryable,
  request: {
    taskID: string;
    toolCallId: string;
    queueName: string;
    toolName: string;
    input: unknown;
    inputDigest: string;
    timeoutSeconds: number | null;
  },
): Promise<void> {
  await queryable.query(
    `insert into ai_sdk_absurd.tool_approvals
       (task_id, tool_call_id, queue_name, tool_name, input, input_digest, event_name, requested_at, expires_at)
     values ($1::uuid, $2, $3, $4, $5::jsonb, $6, $7, absurd.current_time(),
             case when $8::double precision is null then null
                  else absurd.current_time() + make_interval(secs => $8::double precision) end)
     on conflict (task_id, tool_call_id) do nothing`,
    [
      request.taskID,
      request.toolCallId,
      request.queueName,
      request.toolName,
      JSON.stringify(request.input ?? null),
      request.inputDigest,
      approvalEventName(request.taskID, request.toolCallId),
      request.timeoutSeconds,
    ],
  );
}

/** Tool calls still waiting for a decision, oldest first; calls of tasks that ended are left out. */
export async function listPendingApprovals(
  queryable: Queryable,
  options: { taskID?: string; queue?: string } = {},
): Promise<PendingApproval[]> {
  if (options.taskID !== undefined && !uuidPattern.test(options.taskID)) return [];
  const { rows } = await queryable.query<ApprovalRow>(
    `select * from ai_sdk_absurd.tool_approvals
     where decided_at is null
       and ($1::uuid is null or task_id = $1::uuid)
       and ($2::text is null or queue_name = $2)
     order by requested_at, task_id, tool_call_id`,
    [options.taskID ?? null, options.queue ?? null],
  );
  const liveTasks = await liveTaskIds(queryable, rows);
  return rows
    .filter((row) => liveTasks.has(row.task_id))
    .map((row) => ({
      taskID: row.task_id,
      toolCallId: row.tool_call_id,
      toolName: row.tool_name,
      input: row.input,
      queueName: row.queue_name,
      requestedAt: row.requested_at,
      expiresAt: row.expires_at,
    }));
}

/**
 * Decides one waiting tool call and wakes its task, atomically: the row is locked, checked, updated
 * and the task's event emitted in one transaction, so only the first valid decision ever lands.
 */
export async function decideToolCall(database: Database, options: ApproveToolCallOptions): Promise<ToolApprovalDecision> {
  if (typeof options.approved !== 'boolean') {
    throw new ApprovalError({
      reason: 'not-found',
      taskID: options.taskID,
      toolCallId: options.toolCallId,
      message: 'approveToolCall needs approved: true or approved: false.',
    });
  }
  const missing = () =>
    new ApprovalError({
      reason: 'not-found',
      taskID: options.taskID,
      toolCallId: options.toolCallId,
      message:
        `No tool call ${options.toolCallId} of task ${options.taskID} is waiting for approval. ` +
        'List the waiting calls with absurd.listPendingApprovals() or `npx ai-sdk-absurd approvals`.',
    });
  if (!uuidPattern.test(options.taskID)) throw missing();
  // The reason is stored as text and sent in the event's jsonb payload, so it must fit both.
  if (options.reason != null) validatePayload(options.reason, { subject: 'The approval reason' });
  return database.transaction(async (transaction) => {
    const { rows } = await transaction.query<ApprovalRow>(
      'select * from ai_sdk_absurd.tool_approvals where task_id = $1::uuid and tool_call_id = $2 for update',
      [options.taskID, options.toolCallId],
    );
    const row = rows[0];
    if (!row) throw missing();
    if (row.decided_at !== null) {
      throw new ApprovalError({
        reason: 'already-decided',
        taskID: options.taskID,
        toolCallId: options.toolCallId,
        message:
          `Tool call ${options.toolCallId} of task ${options.taskID} was already ` +
          `${row.approved ? 'approved' : 'denied'}${row.decided_by === 'timeout' ? ' (timed out)' : ''} at ` +
          `${row.decided_at.toISOString()}; the first decision stands and cannot be changed.`,
      });
    }
    if (options.input !== undefined && fingerprint(options.input) !== row.input_digest) {
      throw new ApprovalError({
        reason: 'input-mismatch',
        taskID: options.taskID,
        toolCallId: options.toolCallId,
        message:
          `The decision was made for another input than the one tool call ${options.toolCallId} of task ` +
          `${options.taskID} asks about (${JSON.stringify(row.input)}). Review the current input and decide again.`,
      });
    }
    const live = await liveTaskIds(transaction, [row]);
    if (!live.has(row.task_id)) {
      throw new ApprovalError({
        reason: 'not-waiting',
        taskID: options.taskID,
        toolCallId: options.toolCallId,
        message: `Task ${options.taskID} is no longer waiting (it has completed, failed or been cancelled); nothing was decided.`,
      });
    }
    const { rows: updated } = await transaction.query<{ decided_at: Date }>(
      `update ai_sdk_absurd.tool_approvals
       set decided_at = absurd.current_time(), approved = $3, reason = $4, decided_by = 'person'
       where task_id = $1::uuid and tool_call_id = $2
       returning decided_at`,
      [options.taskID, options.toolCallId, options.approved, options.reason ?? null],
    );
    const decision: ToolApprovalDecision = {
      approved: options.approved,
      reason: options.reason ?? null,
      inputDigest: row.input_digest,
      decidedBy: 'person',
      decidedAt: updated[0]!.decided_at.toISOString(),
    };
    await transaction.query('select absurd.emit_event($1, $2, $3::jsonb)', [
      row.queue_name,
      row.event_name,
      JSON.stringify(decision),
    ]);
    return decision;
  });
}

/**
 * Records a timeout as a denial, unless a person decided first; either way returns the decision
 * that stands, so a decision racing the timeout is never lost.
 */
export async function expireToolCall(
  queryable: Queryable,
  call: { taskID: string; toolCallId: string },
): Promise<ToolApprovalDecision> {
  await queryable.query(
    `update ai_sdk_absurd.tool_approvals
     set decided_at = absurd.current_time(), approved = false, reason = 'timed out', decided_by = 'timeout'
     where task_id = $1::uuid and tool_call_id = $2 and decided_at is null`,
    [call.taskID, call.toolCallId],
  );
  const { rows } = await queryable.query<ApprovalRow>(
    'select * from ai_sdk_absurd.tool_approvals where task_id = $1::uuid and tool_call_id = $2',
    [call.taskID, call.toolCallId],
  );
  const row = rows[0];
  if (!row || row.decided_at === null) {
    throw new ApprovalError({
      reason: 'not-found',
      taskID: call.taskID,
      toolCallId: call.toolCallId,
      message: `The approval record of tool call ${call.toolCallId} of task ${call.taskID} is missing; it may have been cleaned up.`,
    });
  }
  return {
    approved: row.approved ?? false,
    reason: row.reason,
    inputDigest: row.input_digest,
    decidedBy: row.decided_by ?? 'timeout',
    decidedAt: row.decided_at.toISOString(),
  };
}

async function liveTaskIds(queryable: Queryable, rows: ApprovalRow[]): Promise<Set<string>> {
  const byQueue = new Map<string, string[]>();
  for (const row of rows) byQueue.set(row.queue_name, [...(byQueue.get(row.queue_name) ?? []), row.task_id]);
  const live = new Set<string>();
  for (const [queueName, taskIds] of byQueue) {
    const { rows: exists } = await queryable.query<{ present: boolean }>(
      'select exists (select 1 from absurd.queues where queue_name = $1) as present',
      [queueName],
    );
    if (!exists[0]?.present) continue;
    const { rows: tasks } = await queryable.query<{ task_id: string; state: string }>(
      `select task_id::text as task_id, state from ${queueTable('t', queueName)} where task_id = any($1::uuid[])`,
      [taskIds],
    );
    for (const task of tasks) if (!terminalStates.has(task.state)) live.add(task.task_id);
  }
  return live;
}
