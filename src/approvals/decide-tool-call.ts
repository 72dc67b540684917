import { fingerprint } from '../codec/fingerprint.ts';
import { validatePayload } from '../client/validate-payload.ts';
import type { Database } from '../db/database.ts';
import { ApprovalError } from '../errors/approval-error.ts';
import { isTaskID } from '../client/task-id.ts';
import { approvalInput, liveTaskIds, rowDecision, type ApprovalRow } from './approval-row.ts';
import type { ApproveToolCallOptions, ToolApprovalDecision } from './tool-approval.ts';

/**
 * Decides one waiting request and, when it was the last undecided one its task waits for, wakes the
 * task, atomically: the task's requests are locked, checked and updated and the wait's event emitted
 * in one transaction, so only the first valid decision ever lands and no wake-up is lost.
 */
export async function decideToolCall(database: Database, options: ApproveToolCallOptions): Promise<ToolApprovalDecision> {
  const target = options.requestId ?? options.toolCallId ?? '';
  if (typeof options.approved !== 'boolean') {
    throw new ApprovalError({
      reason: 'not-found',
      taskID: options.taskID,
      toolCallId: target,
      message: 'approveToolCall needs approved: true or approved: false.',
    });
  }
  if (!isTaskID(options.taskID)) throw missing(options);
  // The reason is stored as text and sent in the event's jsonb payload, so it must fit both.
  if (options.reason != null) validatePayload(options.reason, { subject: 'The approval reason' });
  return database.transaction(async (transaction) => {
    // Every request of the task, locked in request id order: decisions of one wait take turns, so the
    // last of them sees the others and emits the wait's event.
    const { rows } = await transaction.query<ApprovalRow>(
      'select * from ai_sdk_absurd.tool_approvals where task_id = $1::uuid order by request_id for update',
      [options.taskID],
    );
    const row = targetRow(rows, options);
    const toolCallId = row.tool_call_id;
    if (row.decided_at !== null) {
      throw new ApprovalError({
        reason: 'already-decided',
        taskID: options.taskID,
        toolCallId,
        message:
          `Tool call ${toolCallId} of task ${options.taskID} was already ` +
          `${row.approved ? 'approved' : 'denied'}${row.decided_by === 'timeout' ? ' (timed out)' : ''} at ` +
          `${row.decided_at.toISOString()}; the first decision stands and cannot be changed.`,
      });
    }
    if (options.input !== undefined && fingerprint(options.input) !== row.input_digest) {
      throw new ApprovalError({
        reason: 'input-mismatch',
        taskID: options.taskID,
        toolCallId,
        message:
          `The decision was made for another input than the one tool call ${toolCallId} of task ` +
          `${options.taskID} asks about (${JSON.stringify(approvalInput(row))}). Review the current input and decide again.`,
      });
    }
    const live = await liveTaskIds(transaction, [row]);
    if (!live.has(row.task_id)) {
      throw new ApprovalError({
        reason: 'not-waiting',
        taskID: options.taskID,
        toolCallId,
        message: `Task ${options.taskID} is no longer waiting (it has completed, failed or been cancelled); nothing was decided.`,
      });
    }
    const { rows: updated } = await transaction.query<ApprovalRow>(
      `update ai_sdk_absurd.tool_approvals
       set decided_at = absurd.current_time(), approved = $2, reason = $3, decided_by = 'person'
       where request_id = $1::uuid
       returning *`,
      [row.request_id, options.approved, options.reason ?? null],
    );
    const decision = rowDecision(updated[0]!);
    const othersWaiting = rows.some(
      (other) => other.request_id !== row.request_id && other.decided_at === null && other.event_name === row.event_name,
    );
    if (row.event_name !== null && !othersWaiting) {
      await transaction.query('select absurd.emit_event($1, $2, $3::jsonb)', [
        row.queue_name,
        row.event_name,
        JSON.stringify(decision),
      ]);
    }
    return decision;
  });
}

/**
 * The request a decision names: by request id, or by the tool call id a person sees when exactly one
 * waiting request of the task has it (else the most recent request with it, to report its decision).
 */
function targetRow(rows: readonly ApprovalRow[], options: ApproveToolCallOptions): ApprovalRow {
  if (options.requestId !== undefined) {
    const byRequest = rows.find((row) => row.request_id === options.requestId?.toLowerCase());
    if (!byRequest) throw missing(options);
    return byRequest;
  }
  const toolCallId = options.toolCallId ?? '';
  const sameCall = rows.filter((row) => row.tool_call_id === toolCallId);
  const waiting = sameCall.filter((row) => row.decided_at === null);
  if (waiting.length > 1) {
    const ordered = waiting.toSorted((left, right) => left.requested_at.getTime() - right.requested_at.getTime());
    throw new ApprovalError({
      reason: 'ambiguous',
      taskID: options.taskID,
      toolCallId,
      message:
        `${waiting.length} tool calls ${toolCallId} of task ${options.taskID} are waiting for approval ` +
        `(request ids ${ordered.map((row) => row.request_id).join(', ')}); nothing was decided. ` +
        'Decide each by its request id: approveToolCall({ taskID, requestId }) or ' +
        `\`npx ai-sdk-absurd approve ${options.taskID} <request id>\`.`,
    });
  }
  if (waiting[0]) return waiting[0];
  const latest = sameCall.toSorted((left, right) => right.requested_at.getTime() - left.requested_at.getTime())[0];
  if (latest) return latest;
  // The CLI passes a request id where the tool call id goes.
  const byRequest = rows.find((row) => row.request_id === toolCallId.toLowerCase());
  if (!byRequest) throw missing(options);
  return byRequest;
}

function missing(options: ApproveToolCallOptions): ApprovalError {
  const what = options.requestId !== undefined ? `request ${options.requestId}` : `tool call ${options.toolCallId}`;
  return new ApprovalError({
    reason: 'not-found',
    taskID: options.taskID,
    toolCallId: options.requestId ?? options.toolCallId ?? '',
    message:
      `No ${what} of task ${options.taskID} is waiting for approval. ` +
      'List the waiting calls with absurd.listPendingApprovals() or `npx ai-sdk-absurd approvals`.',
  });
}
