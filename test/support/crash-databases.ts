// Databases that several processes take turns on: an on-disk PGlite directory (one process at a time), or a
// fresh Postgres database on the TEST_DATABASE_URL server, else on a server answering at 127.0.0.1:5432.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { migrate } from '../../src/schema/migrate.ts';
import { testDatabaseUrl } from './test-database.ts';

export type CrashBackend = 'pglite' | 'postgres';

export interface SharedDatabase {
  readonly backend: CrashBackend;
  /** What every process passes as `db`: `pglite:<directory>` or a `postgres://` URL. */
  readonly url: string;
  /** Removes the directory or drops the database. */
  remove(): Promise<void>;
}

const localPostgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The backends the crash suites run on, and why one is missing. PGlite always; Postgres when
 * TEST_DATABASE_URL is set, or when a server answers at 127.0.0.1:5432.
 */
export async function crashBackends(): Promise<{ backends: CrashBackend[]; postgresSkipReason?: string }> {
  if (testDatabaseUrl) return { backends: ['pglite', 'postgres'] };
  if (await answers('127.0.0.1', 5432)) return { backends: ['pglite', 'postgres'] };
  return {
    backends: ['pglite'],
    postgresSkipReason: 'no Postgres: TEST_DATABASE_URL is not set and nothing answers at 127.0.0.1:5432',
  };
}

export async function createSharedDatabase(backend: CrashBackend): Promise<SharedDatabase> {
  if (backend === 'pglite') {
    const parent = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-crash-'));
    return {
      backend,
      url: `pglite:${join(parent, 'db')}`,
      remove: () => rm(parent, { recursive: true, force: true }),
    };
  }
  return createPostgresDatabase(testDatabaseUrl ?? localPostgresUrl);
}

/**
 * A fresh migrated database on the server `adminUrl` points at. Dropping it waits for the connections of
 * exited processes to go away instead of forcing them off: a forced drop sends an error to any client still
 * closing, and an idle client with no error listener would crash the test process.
 */
async function createPostgresDatabase(adminUrl: string): Promise<SharedDatabase> {
  const name = `ai_sdk_absurd_crash_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (admin) => admin.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await withClient(url.toString(), (client) => migrate(client));
  return {
    backend: 'postgres',
    url: url.toString(),
    remove: () => withClient(adminUrl, (admin) => dropDatabase(admin, name)),
  };
}

async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      await admin.query(`drop database if exists ${name}`);
      return;
    } catch (error) {
      // 55006: still in use, typically by the backend of a killed worker that has not noticed yet.
      if ((error as { code?: string }).code !== '55006') throw error;
      await delay(100);
    }
  }
  await admin.query(`drop database if exists ${name} with (force)`);
}

async function withClient(url: string, action: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await action(client);
  } finally {
    await client.end();
  }
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 500 });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
