import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/**
 * Raised for invalid setup that the caller must fix in code or configuration: an unnamed agent,
 * an invalid queue name, an unknown `pglite:` URL, an unsupported storage mode.
 */
export class ConfigurationError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdConfigurationError';
  readonly setting: string;

  constructor(options: { setting: string; message: string; cause?: unknown }) {
    super({ name: ConfigurationError.errorName, message: options.message, cause: options.cause });
    this.setting = options.setting;
  }
}
