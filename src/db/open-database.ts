import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { isDatabase, isPGlite, type Database } from './database.ts';
import { createPGliteDatabase } from './pglite-database.ts';
import { createPostgresDatabase, type PostgresDatabaseOptions } from './postgres-database.ts';
import { redactUrl } from './redact-url.ts';
import type { PostgresPool } from './postgres-pool.ts';

export { redactUrl };

export type DatabaseSource = string | PostgresPool | PGlite | Database;

/** The database URL used when none is given, read the way absurd-sdk reads it. */
export function defaultDatabaseUrl(): string {
  return process.env.ABSURD_DATABASE_URL || process.env.PGDATABASE || 'postgresql://localhost/absurd';
}

/**
 * Opens the database a client was configured with: `postgres://…` / `postgresql://…` URLs and pools,
 * `pglite:memory`, `pglite:<directory>`, or an existing PGlite instance.
 */
/**
 * `migrate: false` opens an embedded database without applying pending migrations (for the CLI's
 * own `init`/`migrate`, which report what they apply).
 */
export function openDatabase(
  source: DatabaseSource | undefined,
  options: { migrate?: boolean } & Pick<PostgresDatabaseOptions, 'listenDb' | 'log'> = {},
): { database: Database; owned: boolean } {
  const listening = { listenDb: validateListenDb(options.listenDb), log: options.log };
  const resolved = source ?? defaultDatabaseUrl();
  if (isDatabase(resolved)) return { database: resolved, owned: false };
  if (isPGlite(resolved)) return { database: createPGliteDatabase(resolved, options), owned: true };
  if (resolved instanceof pg.Pool) return { database: createPostgresDatabase(resolved, { ...listening, owned: false }), owned: true };
  if (typeof resolved !== 'string') {
    throw new ConfigurationError({
      setting: 'db',
      message: 'The db option must be a database URL, a pg.Pool or a PGlite instance.',
    });
  }
  const pgliteLocation = parsePGliteUrl(resolved);
  if (pgliteLocation !== undefined) return { database: createPGliteDatabase(pgliteLocation, options), owned: true };
  if (/^postgres(ql)?:\/\//i.test(resolved)) return { database: createPostgresDatabase(resolved, listening), owned: true };
  throw new ConfigurationError({
    setting: 'db',
    message:
      `Unrecognised database URL "${redactUrl(resolved)}". Use postgres://user@host:5432/db for Postgres, ` +
      `pglite:./path/to/dir for an embedded database on disk, or pglite:memory for an in-memory one.`,
  });
}

/** A `listenDb` must name a Postgres server directly: LISTEN through a URL of another kind cannot work. */
function validateListenDb(listenDb: unknown): string | false | undefined {
  if (listenDb === undefined || listenDb === false) return listenDb;
  if (typeof listenDb === 'string' && /^postgres(ql)?:\/\//i.test(listenDb)) return listenDb;
  throw new ConfigurationError({
    setting: 'listenDb',
    message:
      'The listenDb option must be a postgres:// URL of a direct (unpooled) connection to the same database, ' +
      'or false to poll without LISTEN.',
  });
}

/** `memory` or a directory for `pglite:` URLs; undefined for anything else. */
export function parsePGliteUrl(url: string): string | undefined {
  if (!url.toLowerCase().startsWith('pglite:')) return undefined;
  const location = url.slice('pglite:'.length).replace(/^\/\/(?=\.|\/|memory)/, '');
  if (location === '' ) {
    throw new ConfigurationError({
      setting: 'db',
      message: 'The pglite: URL names no location. Use pglite:./path/to/dir or pglite:memory.',
    });
  }
  return location === 'memory' || location === ':memory:' ? 'memory' : location;
}
