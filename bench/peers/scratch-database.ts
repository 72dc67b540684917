// Benchmarks run on a server the caller names, in a database of their own that is dropped after,
// so they never touch data and never see another run's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const defaultBenchmarkServer = 'postgres://postgres@127.0.0.1:5432/postgres';

/** The server benchmarks use: BENCH_DATABASE_URL, then TEST_DATABASE_URL, then the local default. */
export function benchmarkServerUrl(explicit?: string): string {
  return explicit ?? process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? defaultBenchmarkServer;
}

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates an empty database named `<prefix>_<random>` on the server of `serverUrl`. */
export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await administer(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => administer(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

/** The server's version string (`15.20`), or undefined when it cannot be reached. */
export async function serverVersion(serverUrl: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    return rows[0]?.server_version.split(' ')[0];
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

async function administer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
