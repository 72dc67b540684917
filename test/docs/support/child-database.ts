// A database other processes open by URL: a fresh, migrated Postgres database when TEST_DATABASE_URL is set,
// otherwise a fresh embedded PGlite directory that this process never opens (PGlite allows one process per
// directory; whoever opens it first creates and migrates it).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../../src/schema/migrate.ts';
import { testDatabaseUrl } from '../../support/test-database.ts';

export interface ChildDatabase {
  /** `postgres://…` or `pglite:<directory>`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function createChildDatabase(): Promise<ChildDatabase> {
  if (testDatabaseUrl) return createPostgresChildDatabase(testDatabaseUrl);
  const directory = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-child-'));
  return {
    url: `pglite:${join(directory, 'data')}`,
    close: () => rm(directory, { recursive: true, force: true }),
  };
}

// Plain clients rather than a pool: `Client.end()` waits for the connection to close, so dropping the database
// afterwards never terminates a connection this process still holds.
async function createPostgresChildDatabase(adminUrl: string): Promise<ChildDatabase> {
  const name = `ai_sdk_absurd_child_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await withClient(url.toString(), (client) => migrate(client));
  return {
    url: url.toString(),
    async close() {
      await withClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
