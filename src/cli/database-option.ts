import type { Command } from 'commander';
import { Absurd } from '../client/absurd.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';

/** Adds `--db <url>` with the documented fallback to ABSURD_DATABASE_URL. */
export function withDatabaseOption(command: Command): Command {
  return command.option('--db <url>', 'database URL (postgres://…, pglite:./dir); defaults to ABSURD_DATABASE_URL');
}

export function resolveDatabaseUrl(options: { db?: string }): string {
  const url = options.db ?? process.env.ABSURD_DATABASE_URL;
  if (!url) {
    throw new ConfigurationError({
      setting: 'db',
      message: 'No database given. Pass --db <url> or set ABSURD_DATABASE_URL (postgres://… or pglite:./dir).',
    });
  }
  return url;
}

/** Opens a client for one CLI command and always closes it. */
export async function withClient<T>(
  options: { db?: string; queue?: string },
  fn: (absurd: Absurd) => Promise<T>,
  clientOptions: { migrate?: boolean } = {},
): Promise<T> {
  const absurd = new Absurd({ db: resolveDatabaseUrl(options), queueName: options.queue ?? 'default', ...clientOptions });
  try {
    await absurd.ready();
    return await fn(absurd);
  } finally {
    await absurd.close();
  }
}
