import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/** Raised when the database has no schema yet, or was migrated by a newer version of this library. */
export class SchemaVersionError extends AiSdkAbsurdError {
  readonly databaseVersion: number | null;
  readonly libraryVersion: number;

  constructor(options: { databaseVersion: number | null; libraryVersion: number; message: string; cause?: unknown }) {
    super({ name: 'AiSdkAbsurdSchemaVersionError', message: options.message, cause: options.cause });
    this.databaseVersion = options.databaseVersion;
    this.libraryVersion = options.libraryVersion;
  }
}
