// One row of ai_sdk_absurd.tool_approvals as the store reads it, and what is derived from it.
import { decodeCheckpoint } from '../codec/checkpoint-codec.ts';
import type { Queryable } from '../db/database.ts';
import { queueTable } from '../db/queue-table.ts';
import type { ToolApprovalDecision } from './tool-approval.ts';

export interface ApprovalRow {
  request_id: string;
  request_key: string | null;
  task_id: string;
  tool_call_id: string;
  queue_name: string;
  tool_name: string;
  input: unknown;
  input_codec: number | null;
  input_digest: string;
  event_name: string | null;
  requested_at: Date;
  expires_at: Date | null;
  decided_at: Date | null;
  approved: boolean | null;
  reason: string | null;
  decided_by: 'person' | 'timeout' | null;
}

const terminalStates = new Set(['completed', 'failed', 'cancelled']);

/** The input of a request as the model wrote it. */
export function approvalInput(row: Pick<ApprovalRow, 'input' | 'input_codec' | 'request_id'>): unknown {
  if (row.input_codec === null) return row.input;
  return decodeCheckpoint({ codec: row.input_codec, value: row.input }, { stepName: `approval request ${row.request_id}` });
}

/** The decision a decided row records. */
export function rowDecision(row: ApprovalRow): ToolApprovalDecision {
  return {
    approved: row.approved ?? false,
    reason: row.reason,
    inputDigest: row.input_digest,
    decidedBy: row.decided_by ?? 'timeout',
    decidedAt: row.decided_at!.toISOString(),
  };
}

/** The ids of the tasks among `rows` that have not ended (their queue still exists and they are not terminal). */
export async function liveTaskIds(queryable: Queryable, rows: readonly Pick<ApprovalRow, 'queue_name' | 'task_id'>[]): Promise<Set<string>> {
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
