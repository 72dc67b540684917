import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/** Raised when a durable call is made outside an Absurd task, where it could not be checkpointed. */
export class NotInTaskError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdNotInTaskError';
  readonly operation: string;

  constructor(options: { operation: string; message?: string }) {
    super({
      name: NotInTaskError.errorName,
      message:
        options.message ??
        `${options.operation} was called outside an Absurd task, so it cannot be made durable. ` +
          `Call it inside a handler registered with absurd.registerTask(), or use a plain ToolLoopAgent for non-durable runs.`,
    });
    this.operation = options.operation;
  }
}
