// One place that decides which database a suite runs against: embedded PGlite by default, real
// Postgres when TEST_DATABASE_URL is set. Each call gives a fresh, migrated, isolated database.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from '../../src/schema/migrate.ts';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL;
export const usingPostgres = Boolean(testDatabaseUrl);

export interface TestDatabase {
  readonly kind: 'postgres' | 'pglite';
  /** What to pass as `db` to `new Absurd({ defaultRetryStrategy: { kind: 'none' }, db })` in this process. */
  readonly db: string | PGlite;
  /** A URL another process can open: a postgres:// URL, or a pglite: directory once this handle is closed. */
  readonly url: string;
  /** Runs raw SQL against the test database (for assertions). */
  query<Row = any>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  /** Drops the database (Postgres) or closes the embedded instance and removes its files. */
  close(): Promise<void>;
}

/** A fresh migrated database. `onDisk` keeps PGlite data in a temporary directory (needed for child processes). */
export async function createTestDatabase(options: { onDisk?: boolean; migrated?: boolean } = {}): Promise<TestDatabase> {
  // The unit lane (`npm run test:unit`) runs in seconds because no suite in it opens a database.
  if (process.env.AI_SDK_ABSURD_UNIT_LANE === '1') {
    throw new Error('A unit suite (src/**/*.test.ts) opened a database: move it to test/, where cross-module suites live.');
  }
  const migrated = options.migrated ?? true;
  if (testDatabaseUrl) return createPostgresDatabase(testDatabaseUrl, migrated);
  return createPGliteDatabase(Boolean(options.onDisk), migrated);
}

async function createPostgresDatabase(adminUrl: string, migrated: boolean): Promise<TestDatabase> {
  const name = `ai_sdk_absurd_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  // Dropping the database terminates idle connections the pool may not have closed yet.
  pool.on('error', () => {});
  if (migrated) await migrate(pool);
  return {
    kind: 'postgres',
    db: url.toString(),
    url: url.toString(),
    query: async (text, params) => (await pool.query(text, params as unknown[])) as { rows: any[] },
    async close() {
      await pool.end();
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        await dropper.query(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

async function createPGliteDatabase(onDisk: boolean, migrated: boolean): Promise<TestDatabase> {
  const directory = onDisk ? await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-test-')) : undefined;
  const pglite = await PGlite.create(directory);
  if (migrated) await migrate(pglite);
  let closed = false;
  return {
    kind: 'pglite',
    db: pglite,
    url: directory ? `pglite:${directory}` : 'pglite:memory',
    query: (text, params) => pglite.query(text, params as unknown[]) as Promise<{ rows: any[] }>,
    async close() {
      if (!closed) {
        closed = true;
        if (!pglite.closed) await pglite.close();
      }
      if (directory) await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A queue name no other test uses, so suites can share a database. */
export function uniqueQueueName(prefix = 'q'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}
