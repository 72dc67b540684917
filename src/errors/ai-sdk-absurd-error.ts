const marker = 'ai-sdk-absurd.error';
const symbol = Symbol.for(marker);

/**
 * Base class of every error this library raises. Errors cross package copies and process
 * boundaries, so identity is checked with a marker symbol instead of `instanceof`.
 */
export class AiSdkAbsurdError extends Error {
  private readonly [symbol] = true;

  constructor(options: { name: string; message: string; cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = options.name;
  }

  static isInstance(error: unknown): error is AiSdkAbsurdError {
    return error != null && typeof error === 'object' && symbol in error;
  }
}
