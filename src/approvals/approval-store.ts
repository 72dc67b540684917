// The rows of ai_sdk_absurd.tool_approvals: one per tool call that waits, or waited, for a person.
// A request is keyed by its tool call's checkpoint name within the task, because a model's tool call
// ids repeat across responses and runs; its input is stored with the checkpoint codec, so whatever
// the model wrote (a NUL, a lone surrogate) is kept and shown exactly.
import { encodeCheckpoint } from '../codec/checkpoint-codec.ts';
import type { Queryable } from '../db/database.ts';
import { ApprovalError } from '../errors/approval-error.ts';
import { isTaskID } from '../client/task-id.ts';
import { approvalInput, liveTaskIds, rowDecision, type ApprovalRow } from './approval-row.ts';
import type { PendingApproval, ToolApprovalDecision } from './tool-approval.ts';

export { decideToolCall } from './decide-tool-call.ts';

export interface ApprovalRequestRecord {
  readonly taskID: string;
  /** The checkpoint name of the tool call, unique within the task, e.g. `support:1/model:2/tool:refund:call_0`. */
  readonly requestKey: string;
  readonly toolCallId: string;
  readonly queueName: string;
  readonly toolName: string;
  readonly input: unknown;
  readonly inputDigest: string;
  readonly timeoutSeconds: number | null;
}

/**
 * Records that a task waits for a decision on one tool call and returns the request's id. Idempotent:
 * recording the same request key again returns the first id. A row written before requests had keys
 * (same tool call id and input, no key) is adopted instead, so a task suspended by an older release
 * resumes on its decision.
 */
export async function recordApprovalRequest(queryable: Queryable, request: ApprovalRequestRecord): Promise<string> {
  const envelope = encodeCheckpoint(request.input ?? null, {
    stepName: request.requestKey,
    subject: `the input of tool call ${request.toolCallId} (${request.toolName}) that waits for approval`,
  }) as { codec: number; value: unknown };
  const { rows } = await queryable.query<{ request_id: string }>(
    `with existing as (
       select request_id from ai_sdk_absurd.tool_approvals where task_id = $1::uuid and request_key = $2
     ),
     adopted as (
       update ai_sdk_absurd.tool_approvals set request_key = $2
       where task_id = $1::uuid and tool_call_id = $3 and request_key is null and input_digest = $8
         and not exists (select 1 from existing)
       returning request_id
     ),
     inserted as (
       insert into ai_sdk_absurd.tool_approvals
         (task_id, request_key, tool_call_id, queue_name, tool_name, input, input_codec, input_digest,
          requested_at, expires_at)
       select $1::uuid, $2, $3, $4, $5, $6::jsonb, $7, $8, absurd.current_time(),
              case when $9::double precision is null then null
                   else absurd.current_time() + make_interval(secs => $9::double precision) end
       where not exists (select 1 from existing) and not exists (select 1 from adopted)
       on conflict (task_id, request_key) do nothing
       returning request_id
     )
     select request_id::text from existing
     union all select request_id::text from adopted
     union all select request_id::text from inserted`,
    [
      request.taskID,
      request.requestKey,
      request.toolCallId,
      request.queueName,
      request.toolName,
      JSON.stringify(envelope.value),
      envelope.codec,
      request.inputDigest,
      request.timeoutSeconds,
    ],
  );
  if (rows[0]) return rows[0].request_id;
  // Another execution of this task recorded the same request a moment ago.
  const { rows: recorded } = await queryable.query<{ request_id: string }>(
    'select request_id::text from ai_sdk_absurd.tool_approvals where task_id = $1::uuid and request_key = $2',
    [request.taskID, request.requestKey],
  );
  if (!recorded[0]) throw missingRequest(request.taskID, request.toolCallId);
  return recorded[0].request_id;
}

/** Tool calls still waiting for a decision, oldest first; calls of tasks that ended are left out. */
export async function listPendingApprovals(
  queryable: Queryable,
  options: { taskID?: string; queue?: string } = {},
): Promise<PendingApproval[]> {
  if (options.taskID !== undefined && !isTaskID(options.taskID)) return [];
  const { rows } = await queryable.query<ApprovalRow>(
    `select * from ai_sdk_absurd.tool_approvals
     where decided_at is null
       and ($1::uuid is null or task_id = $1::uuid)
       and ($2::text is null or queue_name = $2)
     order by requested_at, task_id, request_key, tool_call_id`,
    [options.taskID ?? null, options.queue ?? null],
  );
  const liveTasks = await liveTaskIds(queryable, rows);
  return rows
    .filter((row) => liveTasks.has(row.task_id))
    .map((row) => ({
      taskID: row.task_id,
      requestId: row.request_id,
      toolCallId: row.tool_call_id,
      toolName: row.tool_name,
      input: approvalInput(row),
      queueName: row.queue_name,
      requestedAt: row.requested_at,
      expiresAt: row.expires_at,
    }));
}

/**
 * The decisions that stand for these requests (undefined for those still waiting). A request whose
 * timeout has passed is first recorded as denied ("timed out"), unless a person decided first.
 */
export async function readDecisions(
  queryable: Queryable,
  taskID: string,
  requests: readonly { readonly requestId: string; readonly toolCallId: string }[],
): Promise<Map<string, ToolApprovalDecision | undefined>> {
  const requestIds = requests.map((request) => request.requestId);
  const { rows } = await queryable.query<ApprovalRow>(
    `with expired as (
       update ai_sdk_absurd.tool_approvals
       set decided_at = absurd.current_time(), approved = false, reason = 'timed out', decided_by = 'timeout'
       where request_id = any($1::uuid[]) and decided_at is null and expires_at <= absurd.current_time()
       returning *
     )
     select * from expired
     union all
     select * from ai_sdk_absurd.tool_approvals
     where request_id = any($1::uuid[]) and request_id not in (select request_id from expired)`,
    [requestIds],
  );
  const byId = new Map(rows.map((row) => [row.request_id, row]));
  const decisions = new Map<string, ToolApprovalDecision | undefined>();
  for (const { requestId, toolCallId } of requests) {
    const row = byId.get(requestId);
    if (!row) throw missingRequest(taskID, toolCallId);
    decisions.set(requestId, row.decided_at === null ? undefined : rowDecision(row));
  }
  return decisions;
}

/**
 * Puts the still undecided requests among `requestIds` into one wait on `eventName`, which the last
 * of their decisions emits. Returns how many are waiting and the seconds until the first of them times out.
 */
export async function tagApprovalWait(
  queryable: Queryable,
  wait: { requestIds: readonly string[]; eventName: string },
): Promise<{ waiting: number; timeoutSeconds: number | null }> {
  // Rows are locked in request id order, as a decision locks them, so the two never deadlock.
  const { rows } = await queryable.query<{ waiting: number; seconds: number | null }>(
    `with locked as (
       select request_id from ai_sdk_absurd.tool_approvals
       where request_id = any($1::uuid[]) and decided_at is null
       order by request_id
       for update
     ),
     tagged as (
       update ai_sdk_absurd.tool_approvals a set event_name = $2
       from locked where a.request_id = locked.request_id and a.decided_at is null
       returning a.expires_at
     )
     select count(*)::int as waiting,
            extract(epoch from min(expires_at) - absurd.current_time())::double precision as seconds
     from tagged`,
    [wait.requestIds, wait.eventName],
  );
  const seconds = rows[0]?.seconds ?? null;
  return { waiting: rows[0]?.waiting ?? 0, timeoutSeconds: seconds === null ? null : Math.max(0, Math.ceil(seconds)) };
}

function missingRequest(taskID: string, toolCallId: string): ApprovalError {
  return new ApprovalError({
    reason: 'not-found',
    taskID,
    toolCallId,
    message: `The approval record of tool call ${toolCallId} of task ${taskID} is missing; it may have been cleaned up.`,
  });
}
