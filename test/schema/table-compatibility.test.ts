// What code that talks to a queue's tables directly relies on: timestamp columns that default to
// absurd.current_time(), keys with PostgreSQL's conventional names (so ON CONFLICT ON CONSTRAINT works),
// the zero-argument portable_uuidv7(), queue names with control characters, and queues created by an
// older schema upgraded to all of that in place.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { migrate } from '../../src/schema/migrate.ts';
import { loadMigrations } from '../../src/schema/migrations.ts';
import { useProtocolDatabase } from '../support/protocol-helpers.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { execScript, installThrough } from './install-through.ts';

const fakeNow = '2031-02-03T04:05:06.789Z';

/** Every constraint of the queue's tables as `<table> <kind> <name> <definition>`. */
async function constraintsOf(database: { query: TestDatabase['query'] }, queue: string): Promise<string[]> {
  const { rows } = await database.query<{ line: string }>(
    `select format('%s %s %s %s', c.relname, k.contype, k.conname, pg_get_constraintdef(k.oid)) as line
     from pg_constraint k join pg_class c on c.oid = k.conrelid
     where c.relnamespace = 'absurd'::regnamespace and k.contype in ('p', 'u')
       and c.relname in ('t_' || $1, 'r_' || $1, 'c_' || $1, 'e_' || $1, 'w_' || $1)
     order by 1`,
    [queue],
  );
  return rows.map((row) => row.line).sort();
}

const expectedConstraints = (queue: string) => [
  `c_${queue} p c_${queue}_pkey PRIMARY KEY (task_id, checkpoint_name)`,
  `e_${queue} p e_${queue}_pkey PRIMARY KEY (event_name)`,
  `r_${queue} p r_${queue}_pkey PRIMARY KEY (run_id)`,
  `t_${queue} p t_${queue}_pkey PRIMARY KEY (task_id)`,
  `t_${queue} u t_${queue}_idempotency_key_key UNIQUE (idempotency_key)`,
  `w_${queue} p w_${queue}_pkey PRIMARY KEY (run_id, step_name)`,
];

/** Inserts one row into each table giving no timestamp column, and returns the timestamps the defaults filled in. */
async function insertWithoutTimestamps(database: { query: TestDatabase['query'] }, queue: string): Promise<string[]> {
  const table = (prefix: string) => `absurd."${prefix}_${queue.replaceAll('"', '""')}"`;
  const { rows } = await database.query<{ stamp: Date }>(
    `with task as (
       insert into ${table('t')} (task_id, task_name, params, state)
       values ('00000000-0000-7000-8000-000000000001', 'direct', '{}', 'pending') returning enqueue_at as stamp
     ), run as (
       insert into ${table('r')} (run_id, task_id, attempt, state, available_at)
       values ('00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000001', 1, 'pending', absurd.current_time())
       returning created_at as stamp
     ), checkpoint as (
       insert into ${table('c')} (task_id, checkpoint_name, state)
       values ('00000000-0000-7000-8000-000000000001', 'step', '1') returning updated_at as stamp
     ), event as (
       insert into ${table('e')} (event_name, payload) values ('direct', '1') returning emitted_at as stamp
     ), wait as (
       insert into ${table('w')} (task_id, run_id, step_name, event_name, timeout_at)
       values ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000002', 'wait', 'direct', null)
       returning created_at as stamp
     )
     select stamp from task union all select stamp from run union all select stamp from checkpoint
     union all select stamp from event union all select stamp from wait`,
  );
  return rows.map((row) => new Date(row.stamp).toISOString());
}

describe('queue tables as the protocol describes them', () => {
  const db = useProtocolDatabase();

  test('direct INSERTs that give no timestamp get absurd.current_time() (the faked clock too)', async () => {
    const queue = await db.createQueue('direct');
    await db.setFakeNow(fakeNow);
    try {
      assert.deepEqual(await insertWithoutTimestamps(db, queue), Array(5).fill(fakeNow));
    } finally {
      await db.setFakeNow(null);
    }
    const { rows } = await db.query(`select status from absurd.${'"c_' + queue + '"'}`);
    assert.deepEqual(rows, [{ status: 'committed' }]);
  });

  test('keys carry the conventional names, and ON CONFLICT ON CONSTRAINT finds them', async () => {
    const queue = await db.createQueue('names');
    assert.deepEqual(await constraintsOf(db, queue), expectedConstraints(queue));
    const insert = `insert into absurd."t_${queue}" (task_id, task_name, params, state, idempotency_key)
      values (absurd.portable_uuidv7(), 'keyed', '{}', 'pending', 'k1')
      on conflict on constraint "t_${queue}_idempotency_key_key" do nothing returning task_id`;
    assert.equal((await db.query(insert)).rows.length, 1);
    assert.equal((await db.query(insert)).rows.length, 0, 'the second insert with the key hits the named constraint');
    const spawned = await db.query(`select * from absurd.spawn_task($1, 'keyed', '{}', '{"idempotency_key": "k1"}')`, [queue]);
    assert.equal(spawned.rows[0].created, false, 'spawn_task sees the directly inserted key holder');
    await db.query(`insert into absurd."e_${queue}" (event_name) values ('once')
      on conflict on constraint "e_${queue}_pkey" do nothing`);
  });

  test('portable_uuidv7() has the zero-argument signature, and the one-argument form takes an instant', async () => {
    const { rows } = await db.query(
      `select to_regprocedure('absurd.portable_uuidv7()') is not null as zero,
              absurd.uuidv7_timestamp(absurd.portable_uuidv7(timestamptz '2030-01-01 00:00:00.123+00')) as at`,
    );
    assert.equal(rows[0].zero, true);
    assert.equal(new Date(rows[0].at).toISOString(), '2030-01-01T00:00:00.123Z');
  });

  test('a queue whose name holds a tab and a newline works end to end with the absurd-sdk client', async () => {
    const queue = uniqueQueueName('tab\there\nand newline');
    const absurd = db.sdk(queue);
    await absurd.createQueue();
    absurd.registerTask({ name: 'double' }, async (params: { n: number }, ctx) => {
      const doubled = await ctx.step('double', async () => params.n * 2);
      return { doubled };
    });
    const spawned = await absurd.spawn('double', { n: 21 }, { queue });
    await absurd.workBatch('tab-worker', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(spawned.taskID), { state: 'completed', result: { doubled: 42 } });
    const { rows } = await db.query(
      `select checkpoint_name, state from absurd.get_task_checkpoint_state($1, $2, 'double')`,
      [queue, spawned.taskID],
    );
    assert.deepEqual(rows, [{ checkpoint_name: 'double', state: 42 }]);
    assert.deepEqual(await constraintsOf(db, queue), expectedConstraints(queue));
    assert.ok((await absurd.listQueues()).includes(queue));
    await absurd.dropQueue();
    assert.ok(!(await absurd.listQueues()).includes(queue));
  });
});

describe('queues created before migration 14', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('gain the timestamp defaults and conventional key names, and keep their rows and idempotency keys', async () => {
    const database = await createTestDatabase({ migrated: false });
    cleanups.push(() => database.close());
    await installThrough(database, 13);
    const long = `long_${'x'.repeat(52)}`;
    assert.equal(Buffer.byteLength(long), 57);
    await execScript(database, `select absurd.create_queue('legacy');
      select absurd.create_queue('${long}');
      select absurd.spawn_task('legacy', 'kept', '{"n": 1}'::jsonb, '{"idempotency_key": "once"}'::jsonb);`);
    const before = await database.query(`select task_id from absurd.t_legacy`);
    await expectMigrated(database);

    assert.deepEqual(await constraintsOf(database, 'legacy'), expectedConstraints('legacy'));
    const { rows: indexes } = await database.query(
      `select indexname from pg_indexes where schemaname = 'absurd' and tablename = 't_legacy' order by 1`,
    );
    const names = indexes.map((row) => row.indexname);
    assert.ok(names.includes('t_legacy_idempotency_key_key') && names.includes('t_legacy_pkey'), names.join(', '));
    assert.ok(!names.includes('t_legacy_iki') && !names.includes('t_legacy_pk'), 'the old indexes were renamed, not copied');
    const again = await database.query(`select * from absurd.spawn_task('legacy', 'kept', '{}', '{"idempotency_key": "once"}')`);
    assert.deepEqual(
      { task_id: again.rows[0].task_id, created: again.rows[0].created },
      { task_id: before.rows[0].task_id, created: false },
    );
    assert.equal((await insertWithoutTimestamps(database, 'legacy')).length, 5);

    // A long name is shortened the way PostgreSQL shortens it for a fresh queue of the same name.
    const upgraded = await constraintsOf(database, long);
    await execScript(database, `select absurd.drop_queue('${long}'); select absurd.create_queue('${long}');`);
    assert.deepEqual(upgraded, await constraintsOf(database, long));
    assert.ok(upgraded.every((line) => Buffer.byteLength(line.split(' ')[2]!) <= 63));
  });
});

async function expectMigrated(database: TestDatabase): Promise<void> {
  const target = database.kind === 'pglite' ? (database.db as PGlite) : new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    const applied = (await migrate(target)).applied;
    assert.deepEqual(applied, loadMigrations().slice(13).map((migration) => migration.version));
  } finally {
    if (target instanceof pg.Pool) await target.end();
  }
}
