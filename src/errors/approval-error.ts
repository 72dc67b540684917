import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

export type ApprovalErrorReason = 'not-found' | 'ambiguous' | 'already-decided' | 'input-mismatch' | 'not-waiting';

/** Raised when a tool-call decision is refused: no such pending call, decided already, or bound to other input. */
export class ApprovalError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdApprovalError';
  readonly reason: ApprovalErrorReason;
  readonly taskID: string;
  readonly toolCallId: string;

  constructor(options: { reason: ApprovalErrorReason; taskID: string; toolCallId: string; message: string }) {
    super({ name: ApprovalError.errorName, message: options.message });
    this.reason = options.reason;
    this.taskID = options.taskID;
    this.toolCallId = options.toolCallId;
  }
}
