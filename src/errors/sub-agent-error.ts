import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/**
 * A sub-agent's child task ended without a result: it failed (after its attempts) or was cancelled.
 * By default the parent's model reads it as the tool call's error; with `onChildFailure: 'fail-parent'`
 * it fails the parent run instead (`failsParent` is then true).
 */
export class SubAgentError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdSubAgentError';
  readonly childTaskID: string;
  readonly childQueue: string;
  readonly state: 'failed' | 'cancelled';
  /** The child's failure reason as Absurd stored it (null when it was cancelled). */
  readonly failure: unknown;
  readonly failsParent: boolean;

  constructor(options: {
    childTaskID: string;
    childQueue: string;
    state: 'failed' | 'cancelled';
    failure: unknown;
    failsParent: boolean;
    message: string;
  }) {
    super({ name: SubAgentError.errorName, message: options.message });
    this.childTaskID = options.childTaskID;
    this.childQueue = options.childQueue;
    this.state = options.state;
    this.failure = options.failure;
    this.failsParent = options.failsParent;
  }
}
