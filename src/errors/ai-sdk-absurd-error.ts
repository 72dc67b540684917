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

  /**
   * True when `error` is this class of error, also when it comes from another copy of this package.
   * On the base class, true for every error this library raises.
   */
  static isInstance<T extends abstract new (...args: any[]) => AiSdkAbsurdError>(
    this: T & { readonly errorName?: string },
    error: unknown,
  ): error is InstanceType<T> {
    if (error == null || typeof error !== 'object' || !(symbol in error)) return false;
    if ((this as unknown) === AiSdkAbsurdError) return true;
    return error instanceof this || (error as unknown as Error).name === this.errorName;
  }
}
