// Shared plumbing for the protocol conformance suite: one fixed database session per suite (so a
// faked clock applies to every call made through it), raw calls to the stored functions, and the
// unmodified absurd-sdk client bound to that same session.
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import { Absurd as SdkAbsurd } from 'absurd-sdk';
import pg from 'pg';
import { createTestDatabase, uniqueQueueName, usingPostgres, type TestDatabase } from './test-database.ts';
import { queueTable } from '../../src/db/queue-table.ts';

export { usingPostgres };

/** Why a test that needs several sessions at once is skipped on the embedded, single-connection database. */
export const needsPostgres = usingPostgres
  ? false
  : 'needs several concurrent database sessions; runs against Postgres only (set TEST_DATABASE_URL)';

export interface Queryable {
  query<Row = any>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

export interface ProtocolDatabase extends Queryable {
  readonly database: TestDatabase;
  /** Creates (through absurd.create_queue) a queue no other test uses and returns its name. */
  createQueue(prefix?: string): Promise<string>;
  /** Sets or clears absurd.fake_now for this session. */
  setFakeNow(time: Date | string | null): Promise<void>;
  /** The real absurd-sdk client, talking through this session. */
  sdk(queueName: string): SdkAbsurd;
  /** An extra session to the same database (Postgres only), closed with the suite. */
  connect(): Promise<pg.Client>;
  close(): Promise<void>;
}

const quietLog = { log() {}, info() {}, warn() {}, error() {}, debug() {} } as unknown as Console;

export async function openProtocolDatabase(): Promise<ProtocolDatabase> {
  const database = await createTestDatabase();
  const extraClients: pg.Client[] = [];
  let session: Queryable;
  let sessionClient: pg.Client | undefined;
  if (database.kind === 'postgres') {
    sessionClient = new pg.Client({ connectionString: database.url });
    await sessionClient.connect();
    const client = sessionClient;
    session = { query: async (text, params) => (await client.query(text, params as unknown[])) as { rows: any[] } };
  } else {
    session = database;
  }
  const query: Queryable['query'] = (text, params) => session.query(text, params);
  return {
    database,
    query,
    async createQueue(prefix = 'q') {
      const name = uniqueQueueName(prefix);
      // TEST_STORAGE_MODE=partitioned runs the whole conformance suite on partitioned queues.
      if (process.env.TEST_STORAGE_MODE === 'partitioned') await query(`select absurd.create_queue($1, 'partitioned')`, [name]);
      else await query('select absurd.create_queue($1)', [name]);
      return name;
    },
    async setFakeNow(time) {
      const value = time === null ? '' : typeof time === 'string' ? time : time.toISOString();
      await query(`select set_config('absurd.fake_now', $1, false)`, [value]);
    },
    sdk(queueName) {
      // Any object with node-postgres's query() works as the SDK's connection; its typings only name pg.Pool.
      return new SdkAbsurd({ db: { query } as unknown as pg.Pool, queueName, log: quietLog });
    },
    async connect() {
      if (database.kind !== 'postgres') throw new Error('extra sessions need Postgres');
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      extraClients.push(client);
      return client;
    },
    async close() {
      for (const client of extraClients) await client.end().catch(() => {});
      if (sessionClient) await sessionClient.end();
      await database.close();
    },
  };
}

/** The suite's database as tests see it: the suite opens and closes it. */
export type SuiteDatabase = Omit<ProtocolDatabase, 'close'>;

export interface ProtocolSuiteOptions {
  /** Set the faked clock to this before every test (`null` clears it). Left alone when omitted. */
  readonly fakeNow?: Date | string | null;
  /** Runs once after the database opens, before the first test. */
  readonly setUp?: (db: SuiteDatabase) => Promise<void>;
  /** Runs once after the last test, before the database closes. */
  readonly tearDown?: (db: SuiteDatabase) => Promise<void>;
}

/**
 * The database of the `describe` block it is called in: opened before its first test, closed after its
 * last, with the faked clock reset before each test when `fakeNow` is given.
 *
 * @example
 * describe('protocol: leases', () => {
 *   const db = useProtocolDatabase({ fakeNow: new Date('2033-01-10T08:00:00Z') });
 *   test('...', async () => {
 *     const queue = await db.createQueue();
 *   });
 * });
 */
export function useProtocolDatabase(options: ProtocolSuiteOptions = {}): SuiteDatabase {
  let opened: ProtocolDatabase | undefined;
  const current = (): ProtocolDatabase => {
    if (!opened) throw new Error('the protocol database opens in before(): use it inside tests and hooks');
    return opened;
  };
  const suiteDatabase: SuiteDatabase = {
    get database() {
      return current().database;
    },
    query: (text, params) => current().query(text, params),
    createQueue: (prefix) => current().createQueue(prefix),
    setFakeNow: (time) => current().setFakeNow(time),
    sdk: (queueName) => current().sdk(queueName),
    connect: () => current().connect(),
  };
  before(async () => {
    opened = await openProtocolDatabase();
    await options.setUp?.(suiteDatabase);
  });
  after(async () => {
    if (!opened) return;
    try {
      await options.tearDown?.(suiteDatabase);
    } finally {
      await opened.close();
    }
  });
  const { fakeNow } = options;
  if (fakeNow !== undefined) {
    beforeEach(async () => {
      await current().setFakeNow(fakeNow);
    });
  }
  return suiteDatabase;
}

/** `absurd."<prefix>_<queue>"`, quoted the way the schema quotes it. */
export { queueTable };

export interface SpawnedRow {
  task_id: string;
  run_id: string;
  attempt: number;
  created: boolean;
}

export interface ClaimedRow {
  run_id: string;
  task_id: string;
  attempt: number;
  task_name: string;
  params: unknown;
  retry_strategy: unknown;
  max_attempts: number | null;
  headers: unknown;
  wake_event: string | null;
  event_payload: unknown;
}

export async function spawnTask(
  db: Queryable,
  queueName: string,
  taskName = 'work',
  params?: unknown,
  options: Record<string, unknown> = {},
): Promise<SpawnedRow> {
  const { rows } = await db.query<SpawnedRow>('select * from absurd.spawn_task($1, $2, $3, $4)', [
    queueName,
    taskName,
    params === undefined ? null : JSON.stringify(params),
    JSON.stringify(options),
  ]);
  assert.equal(rows.length, 1);
  return rows[0]!;
}

export async function claimTasks(
  db: Queryable,
  queueName: string,
  options: { worker?: string | null; timeout?: number | null; qty?: number | null } = {},
): Promise<ClaimedRow[]> {
  const { rows } = await db.query<ClaimedRow>('select * from absurd.claim_task($1, $2, $3, $4)', [
    queueName,
    options.worker === undefined ? 'worker-1' : options.worker,
    options.timeout === undefined ? 60 : options.timeout,
    options.qty === undefined ? 1 : options.qty,
  ]);
  return rows;
}

/** Claims exactly one run and returns it. */
export async function claimOne(db: Queryable, queueName: string, options: { worker?: string; timeout?: number } = {}): Promise<ClaimedRow> {
  const rows = await claimTasks(db, queueName, { ...options, qty: 1 });
  assert.equal(rows.length, 1, 'expected one claimable run');
  return rows[0]!;
}

export async function taskRow(db: Queryable, queueName: string, taskId: string): Promise<Record<string, any>> {
  const { rows } = await db.query(`select * from ${queueTable('t', queueName)} where task_id = $1`, [taskId]);
  assert.equal(rows.length, 1, `task ${taskId} exists`);
  return rows[0]!;
}

export async function runRow(db: Queryable, queueName: string, runId: string): Promise<Record<string, any>> {
  const { rows } = await db.query(`select * from ${queueTable('r', queueName)} where run_id = $1`, [runId]);
  assert.equal(rows.length, 1, `run ${runId} exists`);
  return rows[0]!;
}

export async function runsOf(db: Queryable, queueName: string, taskId: string): Promise<Record<string, any>[]> {
  const { rows } = await db.query(`select * from ${queueTable('r', queueName)} where task_id = $1 order by attempt`, [taskId]);
  return rows;
}

export async function writeCheckpoint(
  db: Queryable,
  queueName: string,
  taskId: string,
  stepName: string,
  state: unknown,
  runId: string,
  extendBy: number | null = null,
): Promise<void> {
  await db.query('select absurd.set_task_checkpoint_state($1, $2, $3, $4, $5, $6)', [
    queueName,
    taskId,
    stepName,
    state === undefined ? null : JSON.stringify(state),
    runId,
    extendBy,
  ]);
}

export async function completeRun(db: Queryable, queueName: string, runId: string, result: unknown = null): Promise<void> {
  await db.query('select absurd.complete_run($1, $2, $3)', [queueName, runId, JSON.stringify(result)]);
}

export async function failRun(
  db: Queryable,
  queueName: string,
  runId: string,
  reason: unknown = { name: 'Error', message: 'boom' },
  retryAt: Date | null = null,
): Promise<void> {
  await db.query('select absurd.fail_run($1, $2, $3, $4)', [queueName, runId, JSON.stringify(reason), retryAt]);
}

export async function taskResult(db: Queryable, queueName: string, taskId: string): Promise<Record<string, any> | undefined> {
  const { rows } = await db.query('select * from absurd.get_task_result($1, $2)', [queueName, taskId]);
  return rows[0];
}

/** The database clock as the schema sees it. */
export async function databaseNow(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>('select absurd.current_time() as now');
  return rows[0]!.now;
}

/** Asserts that `promise` rejects with this SQLSTATE and/or a message matching `message`. */
export async function rejectsWith(promise: Promise<unknown>, expected: { code?: string; message?: RegExp }): Promise<void> {
  await assert.rejects(promise, (error: any) => {
    if (expected.code !== undefined) assert.equal(error.code, expected.code, `SQLSTATE of: ${error.message}`);
    if (expected.message !== undefined) assert.match(String(error.message), expected.message);
    return true;
  });
}

export function addSeconds(time: Date, seconds: number): Date {
  return new Date(time.getTime() + seconds * 1000);
}

/** Runs `fn` with `count` polls of a condition, for waits on other processes' work (never timing assertions). */
export async function waitUntil(condition: () => Promise<boolean>, options: { timeoutMs?: number; what?: string } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
