// Leaves a database as an older library would have: migrations 1..count applied and recorded.
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { loadMigrations } from '../../src/schema/migrations.ts';

interface ScriptTarget {
  readonly kind: string;
  readonly db: unknown;
  readonly url: string;
}

/** Installs migrations 1..count by hand, with the bookkeeping rows `migrate()` would have written. */
export async function installThrough(database: ScriptTarget, count: number): Promise<void> {
  const migrations = loadMigrations().slice(0, count);
  const bookkeeping = `create schema if not exists ai_sdk_absurd;
    create table ai_sdk_absurd.schema_migrations (version integer primary key, name text not null, checksum text not null,
      applied_at timestamptz not null default now());`;
  const recorded = migrations.map((migration) => `insert into ai_sdk_absurd.schema_migrations (version, name, checksum)
    values (${migration.version}, '${migration.name}', '${migration.checksum}');`);
  await execScript(database, [bookkeeping, ...migrations.map((migration) => migration.sql), ...recorded].join('\n'));
}

/** Runs a multi-statement script in one go (PGlite's exec, or a simple query on a fresh Postgres session). */
export async function execScript(database: ScriptTarget, sql: string): Promise<void> {
  if (database.kind === 'pglite') {
    await (database.db as PGlite).exec(sql);
    return;
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
