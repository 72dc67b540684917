import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Absurd } from '../client/absurd.ts';
import { parsePGliteUrl } from '../db/open-database.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { suggestCommand } from './suggest-command.ts';

/** Adds `--db <url>` with the documented fallback to ABSURD_DATABASE_URL. */
export function withDatabaseOption(command: Command): Command {
  return command.option('--db <url>', 'database URL (postgres://…, pglite:./dir); defaults to ABSURD_DATABASE_URL');
}

export interface ResolveDatabaseOptions {
  /**
   * Whether the command may create an embedded database where none exists yet (`init`, `migrate`). Every other
   * command works on data that must already be there, so a `pglite:` directory without a database is refused
   * rather than created: a mistyped path would otherwise show an empty, brand-new database.
   */
  readonly create?: boolean;
}

/**
 * The database URL of a command: `--db`, else ABSURD_DATABASE_URL. Unless `create` is set, a `pglite:` URL must
 * name a directory that already holds a database, and `pglite:memory` (always new and empty) is refused.
 *
 * @example
 * const url = resolveDatabaseUrl({ db: 'pglite:./.data/absurd' }); // throws if ./.data/absurd holds no database
 */
export function resolveDatabaseUrl(options: { db?: string }, resolveOptions: ResolveDatabaseOptions = {}): string {
  const fromFlag = options.db !== undefined;
  const url = options.db ?? process.env.ABSURD_DATABASE_URL;
  if (!url) {
    throw new ConfigurationError({
      setting: 'db',
      message: 'No database given. Pass --db <url> or set ABSURD_DATABASE_URL (postgres://… or pglite:./dir).',
    });
  }
  if (!resolveOptions.create) assertEmbeddedDatabaseExists(url, fromFlag ? '--db' : 'ABSURD_DATABASE_URL');
  return url;
}

/** Refuses a `pglite:` location that holds no database, before anything opens (and so creates) it. */
function assertEmbeddedDatabaseExists(url: string, setting: '--db' | 'ABSURD_DATABASE_URL'): void {
  const location = parsePGliteUrl(url);
  if (location === undefined) return;
  if (location === 'memory') {
    throw new ConfigurationError({
      setting: 'db',
      message:
        `${setting} is ${url}, a new and empty in-memory database, so there is nothing to read or change. ` +
        `Give the database your application uses (pglite:./path/to/dir or postgres://…).`,
    });
  }
  const directory = resolve(location);
  // Every PGlite (and Postgres) data directory holds PG_VERSION from the moment it is created.
  if (!existsSync(join(directory, 'PG_VERSION'))) {
    throw new ConfigurationError({
      setting: 'db',
      message:
        `No database exists at ${directory} (${setting} is ${url}). Check the path for a typo; ` +
        `to create a new database there, run: ${suggestCommand(['init'], { db: url })}`,
    });
  }
}

/**
 * Opens a client for one CLI command and always closes it. The database must exist unless `create` is set.
 *
 * @example
 * await withClient({ db: 'pglite:./.data/absurd' }, async (absurd) => absurd.listQueues());
 */
export async function withClient<T>(
  options: { db?: string; queue?: string },
  fn: (absurd: Absurd) => Promise<T>,
  clientOptions: { migrate?: boolean } & ResolveDatabaseOptions = {},
): Promise<T> {
  const { create, ...absurdOptions } = clientOptions;
  const absurd = new Absurd({ db: resolveDatabaseUrl(options, { create }), queueName: options.queue ?? 'default', ...absurdOptions });
  try {
    await absurd.ready();
    return await fn(absurd);
  } finally {
    await absurd.close();
  }
}
