import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/** Raised when the database has no schema yet, or was migrated by a newer version of this library. */
export class SchemaVersionError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdSchemaVersionError';
  readonly databaseVersion: number | null;
  readonly libraryVersion: number;

  constructor(options: { databaseVersion: number | null; libraryVersion: number; message: string; cause?: unknown }) {
    super({ name: SchemaVersionError.errorName, message: options.message, cause: options.cause });
    this.databaseVersion = options.databaseVersion;
    this.libraryVersion = options.libraryVersion;
  }
}
