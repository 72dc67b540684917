import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/** Raised before writing a checkpoint (or task params) larger than the configured limit. */
export class CheckpointSizeError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdCheckpointSizeError';
  readonly stepName: string;
  readonly size: number;
  readonly limit: number;

  constructor(options: { stepName: string; size: number; limit: number; message?: string }) {
    super({
      name: CheckpointSizeError.errorName,
      message:
        options.message ??
        `Checkpoint "${options.stepName}" is ${options.size} bytes, over the limit of ${options.limit} bytes. ` +
          `Return a smaller value (store large data elsewhere and checkpoint a reference), or raise maxCheckpointBytes.`,
    });
    this.stepName = options.stepName;
    this.size = options.size;
    this.limit = options.limit;
  }
}
