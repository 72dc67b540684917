// Shared plumbing for the partitioned-storage suites: creating partitioned queues, reading the catalog
// the way operators do (relkind, partition bounds, which child holds a row), and a cron schema of
// pg_cron's shape (cron.job, cron.schedule, cron.unschedule) for the job helpers.
import { uniqueQueueName } from '../support/test-database.ts';
import type { Queryable } from '../support/protocol-helpers.ts';

export const prefixes = ['t', 'r', 'c', 'w'] as const;

/** cron.job with only the columns pg_cron's users read, and the by-id unschedule every pg_cron version has. */
export const mockCronStatements = [
  'create schema cron',
  'create table cron.job (jobid bigint generated always as identity primary key, jobname text, schedule text, command text)',
  `create function cron.schedule(text, text, text) returns bigint language sql as
    $$ insert into cron.job (jobname, schedule, command) values ($1, $2, $3) returning jobid $$`,
  `create function cron.unschedule(bigint) returns boolean language sql as
    $$ with d as (delete from cron.job where jobid = $1 returning 1) select exists (select 1 from d) $$`,
];

export async function installMockCron(db: Queryable): Promise<void> {
  for (const statement of mockCronStatements) await db.query(statement);
}

export async function dropMockCron(db: Queryable): Promise<void> {
  await db.query('drop schema if exists cron cascade');
}

/** The first column of the first row. */
export async function scalar<T = any>(db: Queryable, sql: string, params: unknown[] = []): Promise<T> {
  return Object.values((await db.query(sql, params)).rows[0] ?? {})[0] as T;
}

export async function createPartitionedQueue(db: Queryable, prefix = 'pq'): Promise<string> {
  const name = uniqueQueueName(prefix);
  await db.query(`select absurd.create_queue($1, 'partitioned')`, [name]);
  return name;
}

/** pg_class.relkind of absurd.<name>, or undefined when no such relation exists. */
export async function relkind(db: Queryable, name: string): Promise<string | undefined> {
  return (await db.query(`select relkind::text from pg_class where relnamespace = 'absurd'::regnamespace and relname = $1`, [name]))
    .rows[0]?.relkind;
}

/** The bound text of an attached child (`FOR VALUES FROM (...) TO (...)` or `DEFAULT`). */
export async function partitionBound(db: Queryable, name: string): Promise<string | undefined> {
  return scalar(db, `select pg_get_expr(c.relpartbound, c.oid) from pg_class c where c.relnamespace = 'absurd'::regnamespace and c.relname = $1`, [name]);
}

/** Names of the children attached to absurd.<parent>, sorted. */
export async function childrenOf(db: Queryable, parent: string): Promise<string[]> {
  const { rows } = await db.query(
    `select c.relname::text as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = to_regclass(format('absurd.%I', $1::text)) order by 1`,
    [parent],
  );
  return rows.map((row) => row.name);
}

export async function weekTag(db: Queryable, at: Date | string): Promise<string> {
  return scalar(db, 'select absurd.partition_week_tag($1::timestamptz)', [typeof at === 'string' ? at : at.toISOString()]);
}

/** The child (without schema or quotes) that holds the row of absurd.<prefix>_<queue> with this key. */
export async function holdingChild(db: Queryable, prefix: string, queue: string, column: string, key: string): Promise<string> {
  const text: string = await scalar(
    db,
    `select tableoid::regclass::text from absurd.${quoteIdent(`${prefix}_${queue}`)} where ${quoteIdent(column)} = $1`,
    [key],
  );
  return text.replace(/^absurd\./, '').replaceAll('"', '');
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function addDays(at: Date | string, days: number): Date {
  return new Date(new Date(at).getTime() + days * 86_400_000);
}
