import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/** Raised when an on-disk PGlite directory is already owned by another live process. */
export class DatabaseLockedError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdDatabaseLockedError';
  readonly dataDir: string;
  readonly ownerPid: number;

  constructor(options: { dataDir: string; ownerPid: number }) {
    super({
      name: DatabaseLockedError.errorName,
      message:
        `The embedded database at ${options.dataDir} is in use by process ${options.ownerPid}. ` +
        `PGlite allows one process per directory: stop that process, or point this one at Postgres ` +
        `(ABSURD_DATABASE_URL=postgres://...) so several processes can share the queue.`,
    });
    this.dataDir = options.dataDir;
    this.ownerPid = options.ownerPid;
  }
}
