/** A tool call that waits, or waited, for a person's decision. */
export interface PendingApproval {
  readonly taskID: string;
  /**
   * The id of this request, unique across tasks. A model may reuse a tool call id (ids are numbered per
   * response, and a task may run an agent more than once): decide by `requestId` when `toolCallId` is not unique.
   */
  readonly requestId: string;
  readonly toolCallId: string;
  readonly toolName: string;
  /** The input exactly as the model wrote it (strings with NUL characters or lone surrogates included). */
  readonly input: unknown;
  readonly queueName: string;
  readonly requestedAt: Date;
  /** When the call counts as denied with reason "timed out"; null when it waits forever. */
  readonly expiresAt: Date | null;
}

/**
 * Which call to decide: `toolCallId` (the id the model gave it, as listed) or `requestId`. A tool call id
 * shared by several waiting requests of the task is refused as ambiguous; the error lists their request ids.
 */
export type ApproveToolCallOptions = DecisionTarget & {
  readonly taskID: string;
  readonly approved: boolean;
  readonly reason?: string;
  /**
   * The input the decision was made for. When given, the decision is refused unless it is the
   * exact input the agent asked about.
   */
  readonly input?: unknown;
};

type DecisionTarget =
  | { readonly toolCallId: string; readonly requestId?: string }
  | { readonly toolCallId?: string; readonly requestId: string };

/** The decision an agent receives for one request. */
export interface ToolApprovalDecision {
  readonly approved: boolean;
  readonly reason: string | null;
  readonly inputDigest: string;
  readonly decidedBy: 'person' | 'timeout';
  readonly decidedAt: string;
}

/** The event a task that waits for several requests suspends on; emitted once the last of them is decided. */
export function approvalWaitEventName(taskID: string, waitID: string): string {
  return `ai-sdk-absurd:approvals:${taskID}:${waitID}`;
}
