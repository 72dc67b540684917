import { TimeoutError } from 'absurd-sdk';
import { getCurrentTask } from '../client/current-task.ts';
import { fingerprint } from '../codec/fingerprint.ts';
import { ApprovalError } from '../errors/approval-error.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import { approvalStepName } from '../agent/step-names.ts';
import { expireToolCall, recordApprovalRequest } from './approval-store.ts';
import { approvalEventName, type ToolApprovalDecision } from './tool-approval.ts';

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
  /** Prefix of the checkpoints, e.g. the agent run's scope. */
  readonly scope: string;
  /** Seconds a call may wait before it counts as denied ("timed out"); undefined waits forever. */
  readonly timeoutSeconds?: (toolName: string) => number | undefined;
}

/**
 * Waits, durably, for a decision on each tool call. Each request is recorded for operators, then
 * the task suspends on an Absurd event: the worker is freed, and the task resumes on any worker
 * once a person decides (or the timeout passes). Approval ids are random on every replay, so
 * everything is keyed by toolCallId and the response is built from the current request.
 */
export async function awaitToolApprovals(
  requests: readonly ToolApprovalRequest[],
  options: AwaitToolApprovalsOptions,
): Promise<ToolApprovalResponse[]> {
  const current = getCurrentTask();
  if (!current) throw new NotInTaskError({ operation: 'Waiting for a tool approval' });
  const { ctx, absurd } = current;
  const responses: ToolApprovalResponse[] = [];
  for (const request of requests) {
    const { toolCallId, toolName, input } = request.toolCall;
    const inputDigest = fingerprint(input ?? null);
    const timeoutSeconds = options.timeoutSeconds?.(toolName);
    await ctx.step(approvalStepName(options.scope, toolCallId, 'request'), async () => {
      await recordApprovalRequest(absurd.database, {
        taskID: current.taskID,
        toolCallId,
        queueName: current.queueName,
        toolName,
        input: input ?? null,
        inputDigest,
        timeoutSeconds: timeoutSeconds ?? null,
      });
      return { toolName, inputDigest };
    });
    const handle = await ctx.beginStep<ToolApprovalDecision>(approvalStepName(options.scope, toolCallId, 'decision'));
    let decision: ToolApprovalDecision;
    if (handle.done) {
      decision = handle.state;
    } else {
      try {
        decision = (await ctx.awaitEvent(approvalEventName(current.taskID, toolCallId), {
          stepName: approvalStepName(options.scope, toolCallId, 'event'),
          timeout: timeoutSeconds,
        })) as unknown as ToolApprovalDecision;
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        decision = await expireToolCall(absurd.database, { taskID: current.taskID, toolCallId });
      }
      if (decision.inputDigest !== inputDigest) {
        throw new ApprovalError({
          reason: 'input-mismatch',
          taskID: current.taskID,
          toolCallId,
          message:
            `The decision for tool call ${toolCallId} of task ${current.taskID} was made for another input ` +
            `than the call now being made; the task's code or prompt changed while it waited. Spawn a new task.`,
        });
      }
      await ctx.completeStep(handle, decision);
    }
    responses.push({
      type: 'tool-approval-response',
      approvalId: request.approvalId,
      approved: decision.approved,
      ...(decision.reason != null ? { reason: decision.reason } : {}),
    });
  }
  return responses;
}
