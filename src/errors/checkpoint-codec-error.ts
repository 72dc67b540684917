import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/**
 * Raised when a value cannot be stored in or read from a checkpoint: functions, symbols, circular
 * references, or a checkpoint written by an incompatible codec version.
 */
export class CheckpointCodecError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdCheckpointCodecError';
  readonly stepName: string | undefined;
  readonly path: string;

  constructor(options: { message: string; path: string; stepName?: string; cause?: unknown }) {
    super({ name: CheckpointCodecError.errorName, message: options.message, cause: options.cause });
    this.stepName = options.stepName;
    this.path = options.path;
  }
}
