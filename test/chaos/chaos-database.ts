// The database a chaos run shares between processes: Postgres when TEST_DATABASE_URL is set (a fresh
// database of its own there), otherwise an on-disk embedded database that one process opens at a time.
// Every connection the parent keeps goes through the library's client, which survives a server restart.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/schema/migrate.ts';
import { testDatabaseUrl } from '../support/test-database.ts';

export interface ChaosDatabase {
  readonly kind: 'postgres' | 'pglite';
  /** What every process passes as `db`. */
  readonly url: string;
  remove(): Promise<void>;
}

export async function openChaosDatabase(): Promise<ChaosDatabase> {
  if (!testDatabaseUrl) {
    const parent = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-chaos-db-'));
    return { kind: 'pglite', url: `pglite:${join(parent, 'db')}`, remove: () => rm(parent, { recursive: true, force: true }) };
  }
  const name = `ai_sdk_absurd_chaos_${randomBytes(5).toString('hex')}`;
  await administer(testDatabaseUrl, `create database ${name}`);
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await migrate(client);
  } finally {
    await client.end();
  }
  return {
    kind: 'postgres',
    url: url.toString(),
    remove: () => administer(testDatabaseUrl!, `drop database if exists ${name} with (force)`),
  };
}

async function administer(serverUrl: string, statement: string): Promise<void> {
  // Retried: right after a server restart the first connections may still be refused.
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: serverUrl });
    try {
      await client.connect();
      await client.query(statement);
      return;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await client.end().catch(() => {});
    }
  }
}
