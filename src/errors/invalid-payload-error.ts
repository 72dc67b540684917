import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/**
 * Raised before storing task params or an event payload that Postgres could not store as given:
 * not JSON-serializable, containing NUL characters (which `jsonb` rejects), or larger than the limit.
 */
export class InvalidPayloadError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdInvalidPayloadError';
  readonly subject: string;
  readonly size: number | undefined;
  readonly limit: number | undefined;

  constructor(options: { subject: string; message: string; size?: number; limit?: number; cause?: unknown }) {
    super({ name: InvalidPayloadError.errorName, message: options.message, cause: options.cause });
    this.subject = options.subject;
    this.size = options.size;
    this.limit = options.limit;
  }
}
