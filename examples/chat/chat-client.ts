// The Absurd client the chat's processes share: ABSURD_DATABASE_URL (or the given default), the `chat` queue,
// and the schema applied on first use, so the example also runs against an empty Postgres database.
import { Absurd } from '../../src/index.ts';
import { chatQueue } from './chat-task.ts';

export async function openChatAbsurd(defaultDatabase?: string): Promise<Absurd> {
  const db = process.env.ABSURD_DATABASE_URL ?? defaultDatabase;
  if (!db) throw new Error('Set ABSURD_DATABASE_URL to the database the web and worker processes share (postgres://…).');
  const absurd = new Absurd({ db, queueName: chatQueue, migrate: true });
  await absurd.createQueue(); // idempotent
  return absurd;
}

/** Refuses an embedded database in a process that shares it with another process. */
export function requireSharedDatabase(processName: string): void {
  const db = process.env.ABSURD_DATABASE_URL ?? '';
  if (!/^postgres(ql)?:\/\//.test(db)) {
    throw new Error(
      `The ${processName} process shares its database with another process: set ABSURD_DATABASE_URL to a postgres:// URL. ` +
        'An embedded PGlite database belongs to one process; run `node examples/chat/start.ts` for web and worker in one process.',
    );
  }
}

/** Runs `close` once on SIGINT or SIGTERM, then exits. */
export function closeOnSignal(close: () => Promise<void>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    close().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
