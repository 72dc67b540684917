import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { isDatabase, isPGlite, type Database } from './database.ts';
import { createPGliteDatabase } from './pglite-database.ts';
import { createPostgresDatabase, type PostgresDatabaseOptions } from './postgres-database.ts';
import { redactUrl } from './redact-url.ts';
import type { PostgresPool } from './postgres-pool.ts';
import { schemaSetupFor, setUpSchema, type SchemaSetup } from '../schema/schema-setup.ts';

export { redactUrl };

export type DatabaseSource = string | PostgresPool | PGlite | Database;

/** The database URL used when none is given, read the way absurd-sdk reads it. */
export function defaultDatabaseUrl(): string {
  return process.env.ABSURD_DATABASE_URL || process.env.PGDATABASE || 'postgresql://localhost/absurd';
}

/**
 * Opens the database a client was configured with: `postgres://…` / `postgresql://…` URLs and pools,
 * `pglite:memory`, `pglite:<directory>`, or an existing PGlite instance. A database this function opens gets
 * its schema set up as `schemaSetupFor` decides from `migrate` (the client's option), or as `schema` says:
 * `'none'` for the CLI's own `init`/`migrate`, which report what they apply. An embedded one is set up before
 * its first query; a Postgres one by `ready()`. A `Database` passed in is returned as it is (`owned: false`):
 * whoever opened it set it up.
 */
export function openDatabase(
  source: DatabaseSource | undefined,
  options: { migrate?: boolean; schema?: SchemaSetup } & Pick<PostgresDatabaseOptions, 'listenDb' | 'log'> = {},
): { database: Database; owned: boolean } {
  const resolved = source ?? defaultDatabaseUrl();
  if (isDatabase(resolved)) return { database: resolved, owned: false };
  const setUp = (kind: Database['kind']) => {
    const setup = options.schema ?? schemaSetupFor(kind, options.migrate);
    return (target: PGlite | Database) => setUpSchema(target, setup);
  };
  const postgres = { listenDb: validateListenDb(options.listenDb), log: options.log, setUp: setUp('postgres') };
  const pglite = { setUp: setUp('pglite') };
  if (isPGlite(resolved)) return { database: createPGliteDatabase(resolved, pglite), owned: true };
  if (resolved instanceof pg.Pool) return { database: createPostgresDatabase(resolved, { ...postgres, owned: false }), owned: true };
  if (typeof resolved !== 'string') {
    throw new ConfigurationError({
      setting: 'db',
      message: 'The db option must be a database URL, a pg.Pool or a PGlite instance.',
    });
  }
  const pgliteLocation = parsePGliteUrl(resolved);
  if (pgliteLocation !== undefined) return { database: createPGliteDatabase(pgliteLocation, pglite), owned: true };
  if (/^postgres(ql)?:\/\//i.test(resolved)) return { database: createPostgresDatabase(resolved, postgres), owned: true };
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
