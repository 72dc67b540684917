/** A tool call that waits, or waited, for a person's decision. */
export interface PendingApproval {
  readonly taskID: string;
  readonly toolCallId: string;
  readonly toolName: string;
  readonly input: unknown;
  readonly queueName: string;
  readonly requestedAt: Date;
  /** When the call counts as denied with reason "timed out"; null when it waits forever. */
  readonly expiresAt: Date | null;
}

export interface ApproveToolCallOptions {
  readonly taskID: string;
  readonly toolCallId: string;
  readonly approved: boolean;
  readonly reason?: string;
  /**
   * The input the decision was made for. When given, the decision is refused unless it is the
   * exact input the agent asked about.
   */
  readonly input?: unknown;
}

/** The decision an agent receives through the approval event. */
export interface ToolApprovalDecision {
  readonly approved: boolean;
  readonly reason: string | null;
  readonly inputDigest: string;
  readonly decidedBy: 'person' | 'timeout';
  readonly decidedAt: string;
}

/** The Absurd event a suspended agent waits on for one tool call. */
export function approvalEventName(taskID: string, toolCallId: string): string {
  return `ai-sdk-absurd:approval:${taskID}:${toolCallId}`;
}
