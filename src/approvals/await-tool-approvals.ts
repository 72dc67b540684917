import { getCurrentTask } from '../client/current-task.ts';
import { beforeWaiting } from '../client/suspension-gate.ts';
import { fingerprint } from '../codec/fingerprint.ts';
import { ApprovalError } from '../errors/approval-error.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import { approvalStepName } from '../steps/step-names.ts';
import { readDecisions, recordApprovalRequest } from './approval-store.ts';
import type { ApprovalWaitMember } from './approval-waits.ts';
import type { ToolApprovalDecision } from './tool-approval.ts';

/** The part of an AI SDK `tool-approval-request` this module reads. */
export interface ToolApprovalRequest {
  readonly approvalId: string;
  readonly toolCall: { readonly toolCallId: string; readonly toolName: string; readonly input: unknown };
}

/** The message part the AI SDK expects back for each request. */
export interface ToolApprovalResponse {
  readonly type: 'tool-approval-response';
  readonly approvalId: string;
  readonly approved: boolean;
  readonly reason?: string;
}

export interface AwaitToolApprovalsOptions {
  /**
   * The checkpoint name of a tool call, e.g. `support:1/model:2/tool:refund:call_0`: it includes the run
   * and the model call that asked for it, so it is unique within the task even when tool call ids repeat.
   */
  readonly toolStepName: (toolName: string, toolCallId: string) => string;
  /** Seconds a call may wait before it counts as denied ("timed out"); undefined waits forever. */
  readonly timeoutSeconds?: (toolName: string) => number | undefined;
  /** Where the run waits, with the other runs of its task execution, for the task to suspend. */
  readonly waits: ApprovalWaitMember;
}

interface PendingRequest {
  readonly request: ToolApprovalRequest;
  readonly requestId: string;
  readonly toolCallId: string;
  readonly inputDigest: string;
  readonly decisionStep: string;
  decision?: ToolApprovalDecision;
}

/**
 * Waits, durably, for a decision on each tool call of a step. Every request is recorded first, so
 * all of them are listed together; while any is undecided the task suspends (the worker is freed)
 * and resumes on any worker once all are decided (or time out). Approval ids are random on every
 * replay, so the response is built from the current request; a decision is read from its request's
 * row, never from an event, so only a recorded decision lets a tool run.
 */
export async function awaitToolApprovals(
  requests: readonly ToolApprovalRequest[],
  options: AwaitToolApprovalsOptions,
): Promise<ToolApprovalResponse[]> {
  const current = getCurrentTask();
  if (!current) throw new NotInTaskError({ operation: 'Waiting for a tool approval' });
  const { ctx, absurd } = current;
  const pending: PendingRequest[] = [];
  for (const request of requests) {
    const { toolCallId, toolName, input } = request.toolCall;
    const requestKey = options.toolStepName(toolName, toolCallId);
    const scope = modelCallScope(requestKey, toolName, toolCallId);
    const inputDigest = fingerprint(input ?? null);
    const timeoutSeconds = options.timeoutSeconds?.(toolName);
    // Registered with the suspension gate: a sibling's wait does not suspend the task before it is listed.
    const recordRequest = () => ctx.step(approvalStepName(scope, toolCallId, 'request'), async () => {
      const requestId = await recordApprovalRequest(absurd.database, {
        taskID: current.taskID,
        requestKey,
        toolCallId,
        queueName: current.queueName,
        toolName,
        input: input ?? null,
        inputDigest,
        timeoutSeconds: timeoutSeconds ?? null,
      });
      return { toolName, inputDigest, requestId };
    });
    const recorded = await beforeWaiting(current, recordRequest);
    pending.push({ request, requestId: recorded.requestId, toolCallId, inputDigest, decisionStep: approvalStepName(scope, toolCallId, 'decision') });
  }
  const handles = await Promise.all(pending.map((item) => ctx.beginStep<ToolApprovalDecision>(item.decisionStep)));
  pending.forEach((item, index) => {
    const handle = handles[index]!;
    if (handle.done) item.decision = handle.state;
  });
  for (;;) {
    const undecided = pending.filter((item) => !item.decision);
    if (undecided.length === 0) break;
    const decisions = await readDecisions(absurd.database, current.taskID, undecided);
    // Another run may have suspended the task meanwhile: a decision is then acted on when it resumes.
    await options.waits.whileLive();
    for (const item of undecided) {
      const decision = decisions.get(item.requestId);
      if (!decision) continue;
      if (decision.inputDigest !== item.inputDigest) throw inputChanged(current.taskID, item.toolCallId);
      await ctx.completeStep(handles[pending.indexOf(item)]!, decision);
      item.decision = decision;
    }
    const waiting = undecided.filter((item) => !item.decision).map((item) => item.requestId);
    if (waiting.length > 0) await options.waits.wait(waiting);
  }
  return pending.map(({ request, decision }) => ({
    type: 'tool-approval-response',
    approvalId: request.approvalId,
    approved: decision!.approved,
    ...(decision!.reason != null ? { reason: decision!.reason } : {}),
  }));
}

/** The model call's scope of a tool call checkpoint name: `support:1/model:2` of `support:1/model:2/tool:refund:call_0`. */
function modelCallScope(toolStepName: string, toolName: string, toolCallId: string): string {
  const suffix = `/tool:${toolName}:${toolCallId}`;
  return toolStepName.endsWith(suffix) ? toolStepName.slice(0, -suffix.length) : toolStepName;
}

function inputChanged(taskID: string, toolCallId: string): ApprovalError {
  return new ApprovalError({
    reason: 'input-mismatch',
    taskID,
    toolCallId,
    message:
      `The decision for tool call ${toolCallId} of task ${taskID} was made for another input ` +
      `than the call now being made; the task's code or prompt changed while it waited. Spawn a new task.`,
  });
}
