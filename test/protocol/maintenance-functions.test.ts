// The maintenance functions absurdctl and pg_cron jobs call, on unpartitioned queues: the UUIDv7 and
// week helpers, partition provisioning and detach (nothing to do for such queues), and the pg_cron job
// helpers, both without pg_cron and against a cron schema of pg_cron's shape (cron.job, cron.schedule,
// cron.unschedule). Their work on partitioned queues is covered in test/partitions/.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { rejectsWith, useProtocolDatabase } from '../support/protocol-helpers.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { mockCronStatements } from '../partitions/partition-helpers.ts';

describe('protocol: maintenance functions on unpartitioned queues', () => {
  const db = useProtocolDatabase({ fakeNow: null });
  beforeEach(async () => {
    await db.query('drop schema if exists cron cascade');
  });

  const installMockCron = async () => {
    for (const statement of mockCronStatements) await db.query(statement);
  };
  const value = async (sql: string, params: unknown[] = []) => Object.values((await db.query(sql, params)).rows[0] ?? {})[0] as any;
  const scope = (queue: string) => value('select substr(md5($1), 1, 12)', [queue]);
  /** An unpartitioned queue whatever TEST_STORAGE_MODE says: these tests are about that mode. */
  const createUnpartitionedQueue = async () => {
    const queue = uniqueQueueName();
    await db.query('select absurd.create_queue($1)', [queue]);
    return queue;
  };

  test('P22: portable_uuidv7() takes no arguments and embeds the faked clock to the millisecond', async () => {
    await db.setFakeNow('2024-04-01T10:20:30.123Z');
    const at = await value('select absurd.uuidv7_timestamp(absurd.portable_uuidv7())');
    assert.equal(new Date(at).toISOString(), '2024-04-01T10:20:30.123Z');
    assert.match(await value('select absurd.portable_uuidv7()::text'), /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('P23: an id made at t lies in [uuidv7_floor(t), uuidv7_floor(t + 1 ms))', async () => {
    await db.setFakeNow('2024-04-01T10:20:30.123456Z');
    const row = (await db.query(`select absurd.portable_uuidv7() as id,
      absurd.uuidv7_floor(absurd.current_time()) as lo, absurd.uuidv7_floor(absurd.current_time() + interval '1 millisecond') as hi`)).rows[0];
    assert.ok(row.id >= row.lo && row.id < row.hi, JSON.stringify(row));
  });

  test('P24: uuidv7_timestamp is null for non-v7 uuids and for null', async () => {
    assert.equal(await value('select absurd.uuidv7_timestamp(gen_random_uuid())'), null);
    assert.equal(await value(`select absurd.uuidv7_timestamp('00000000-0000-0000-0000-000000000000')`), null);
    assert.equal(await value('select absurd.uuidv7_timestamp(null)'), null);
  });

  test('P25, P26: uuidv7_floor rounds down to the millisecond and zeroes the random bits', async () => {
    const at = await value(`select absurd.uuidv7_timestamp(absurd.uuidv7_floor('2024-04-01 10:20:30.123789Z'))`);
    assert.equal(new Date(at).toISOString(), '2024-04-01T10:20:30.123Z');
    assert.equal(await value(`select absurd.uuidv7_floor('2024-04-01 00:00Z')::text`), '018e96f4-a800-7000-8000-000000000000');
    assert.equal(await value(`select absurd.uuidv7_floor('1970-01-01Z')::text`), '00000000-0000-7000-8000-000000000000');
    await rejectsWith(db.query(`select absurd.uuidv7_floor('1969-12-31Z')`), { message: /outside UUIDv7 supported range/ });
  });

  test('P27, P28: week_bucket_utc snaps to Monday 00:00 UTC whatever the session time zone', async () => {
    await db.query(`set timezone = 'America/New_York'`);
    try {
      for (const [input, expected] of [
        ['2024-04-03 15:30Z', '2024-04-01T00:00:00.000Z'],
        ['2024-04-07 23:59:59.999999Z', '2024-04-01T00:00:00.000Z'],
        ['2024-04-08 00:00Z', '2024-04-08T00:00:00.000Z'],
        ['2024-04-07 23:30-05', '2024-04-08T00:00:00.000Z'],
      ]) {
        assert.equal(new Date(await value('select absurd.week_bucket_utc($1::timestamptz)', [input])).toISOString(), expected, input);
      }
    } finally {
      await db.query('reset timezone');
    }
  });

  test('P29, P30, P31: partition_week_tag uses the ISO year digit and the ISO week', async () => {
    for (const [input, expected] of [
      ['2021-01-01 12:00Z', '053'],
      ['2024-12-31 12:00Z', '501'],
      ['2024-01-01Z', '401'],
      ['2026-12-28Z', '653'],
      ['2027-01-03 23:59Z', '653'],
      ['2034-04-05Z', '414'],
      ['2024-04-01Z', '414'],
    ]) {
      assert.equal(await value('select absurd.partition_week_tag($1::timestamptz)', [input]), expected, input);
    }
    assert.equal(await value('select absurd.partition_week_tag(null)'), null);
  });

  test('P34: ensure_partitions is a no-op for unpartitioned queues and checks a given name', async () => {
    const queue = await db.createQueue();
    const tables = async () => value(`select count(*)::int from pg_tables where schemaname = 'absurd'`);
    const before = await tables();
    await db.query('select absurd.ensure_partitions($1)', [queue]);
    await db.query('select absurd.ensure_partitions()');
    await db.query('select absurd.ensure_partitions(null)');
    assert.equal(await tables(), before);
    await rejectsWith(db.query(`select absurd.ensure_partitions('missing')`), { message: /does not exist/ });
    await rejectsWith(db.query(`select absurd.ensure_partitions('')`), { message: /must not be empty/ });
  });

  test('P50: list_detach_candidates gives no rows for unpartitioned queues, whatever the detach policy', async () => {
    const queue = await createUnpartitionedQueue();
    assert.deepEqual((await db.query('select * from absurd.list_detach_candidates($1)', [queue])).rows, []);
    await db.query(`select absurd.set_queue_policy($1, '{"detach_mode":"empty","detach_min_age":"0 days"}')`, [queue]);
    await db.setFakeNow(new Date(Date.now() + 120 * 86400_000));
    assert.deepEqual((await db.query('select * from absurd.list_detach_candidates($1)', [queue])).rows, []);
    assert.deepEqual((await db.query('select * from absurd.list_detach_candidates()')).rows, []);
    await rejectsWith(db.query(`select * from absurd.list_detach_candidates('missing')`), { message: /does not exist/ });
  });

  test('P54: drop_detached_partition drops a detached weekly table, not attached or missing ones', async () => {
    await db.query(`create table absurd."t_dd_413" (id uuid primary key)`);
    await db.query(`create table absurd."r_dd" (run_id uuid primary key) partition by range (run_id)`);
    await db.query(`create table absurd."r_dd_413" partition of absurd."r_dd" for values from ('018e96f4-a800-7000-8000-000000000000') to ('018ebb01-2c00-7000-8000-000000000000')`);
    assert.equal(await value(`select absurd.drop_detached_partition('r_dd_413')`), false);
    assert.equal(await value(`select absurd.drop_detached_partition('t_dd_999')`), false);
    assert.equal(await value(`select absurd.drop_detached_partition(' t_dd_413 ')`), true);
    assert.equal(await value(`select to_regclass('absurd."t_dd_413"')::text`), null);
    await rejectsWith(db.query(`select absurd.drop_detached_partition('  ')`), { message: /partition table must be provided/ });
    await rejectsWith(db.query(`select absurd.drop_detached_partition(null)`), { message: /partition table must be provided/ });
    await rejectsWith(db.query(`select absurd.drop_detached_partition('queues')`), { message: /drops only weekly partitions/ });
    assert.notEqual(await value(`select to_regclass('absurd.queues')::text`), null);
    await db.query(`drop table absurd."r_dd"`);
  });

  test('P55: drop_detached_partition retires the paired cron jobs of its pipeline', async () => {
    await installMockCron();
    const names = ['absurd_drop_run_S_P_C', 'absurd_detach_run_S_P_C', 'absurd_drop_run_S_P_D', 'absurd_detach_run_S_P_D', 'unrelated'];
    for (const name of names) await db.query(`select cron.schedule($1, '* * * * *', 'select 1')`, [name]);
    await db.query(`create table absurd."t_pj" (task_id uuid primary key) partition by range (task_id)`);
    await db.query(`create table absurd."t_pj_413" partition of absurd."t_pj" for values from ('018e96f4-a800-7000-8000-000000000000') to ('018ebb01-2c00-7000-8000-000000000000')`);
    assert.equal(await value(`select absurd.drop_detached_partition('t_pj_413', 'absurd_drop_run_S_P_C')`), false);
    const jobs = async () => (await db.query('select jobname from cron.job order by jobname')).rows.map((row) => row.jobname);
    assert.deepEqual(await jobs(), [...names].sort());
    await db.query(`alter table absurd."t_pj" detach partition absurd."t_pj_413"`);
    assert.equal(await value(`select absurd.drop_detached_partition('t_pj_413', 'absurd_drop_run_S_P_C')`), true);
    assert.deepEqual(await jobs(), ['absurd_detach_run_S_P_D', 'absurd_drop_run_S_P_D', 'unrelated']);
    assert.equal(await value(`select absurd.drop_detached_partition('t_pj_414', 'absurd_drop_run_S_P_D')`), false);
    assert.deepEqual(await jobs(), ['unrelated']);
    await db.query(`drop table absurd."t_pj"`);
  });

  test('P56, P58: without pg_cron enable_cron, disable_cron and schedule_detach_jobs say so; the queue check comes first', async () => {
    const queue = await db.createQueue();
    await rejectsWith(db.query('select * from absurd.enable_cron()'), { message: /pg_cron is not available \(missing cron\.job\)/ });
    await rejectsWith(db.query('select * from absurd.enable_cron($1)', [queue]), { message: /missing cron\.job/ });
    await rejectsWith(db.query('select * from absurd.disable_cron($1)', [queue]), { message: /missing cron\.job/ });
    await rejectsWith(db.query('select * from absurd.schedule_detach_jobs($1)', [queue]), { message: /missing cron\.job/ });
    await rejectsWith(db.query(`select * from absurd.enable_cron('nope')`), { message: /does not exist/ });
    await db.query('create schema cron');
    await db.query('create table cron.job (jobid bigint, jobname text)');
    await rejectsWith(db.query('select * from absurd.enable_cron()'), { message: /missing cron\.schedule/ });
    await rejectsWith(db.query('select * from absurd.disable_cron()'), { message: /missing cron\.unschedule/ });
  });

  test('P57: enable_cron installs the partitions, cleanup and detach-planner jobs once, with their commands', async () => {
    await installMockCron();
    const queue = await db.createQueue("cron'q");
    const s = await scope(queue);
    const returned = (await db.query(`select * from absurd.enable_cron($1, '*/15 * * * *', '7 * * * *')`, [queue])).rows;
    assert.deepEqual(returned.map((row) => row.job_name), [`absurd_partitions_${s}`, `absurd_cleanup_${s}`, `absurd_detach_plan_${s}`]);
    const literal = `'${queue.replaceAll("'", "''")}'`;
    const jobs = async () => (await db.query('select jobname, schedule, command from cron.job order by jobname')).rows;
    assert.deepEqual(await jobs(), [
      { jobname: `absurd_cleanup_${s}`, schedule: '7 * * * *', command: `select * from absurd.cleanup_all_queues(${literal});` },
      { jobname: `absurd_detach_plan_${s}`, schedule: '29 * * * *', command: `select * from absurd.schedule_detach_jobs(${literal});` },
      { jobname: `absurd_partitions_${s}`, schedule: '*/15 * * * *', command: `select absurd.ensure_partitions(${literal});` },
    ]);
    await db.query(`select * from absurd.enable_cron($1, '1 * * * *', '2 * * * *', '3 * * * *')`, [queue]);
    assert.deepEqual((await jobs()).map((row) => row.schedule), ['2 * * * *', '3 * * * *', '1 * * * *']);
    for (const job of await jobs()) await db.query(job.command);
    await rejectsWith(db.query(`select * from absurd.enable_cron($1, ' ')`, [queue]), { message: /Partition schedule must be provided/ });
    await rejectsWith(db.query(`select * from absurd.enable_cron($1, 'x', '')`, [queue]), { message: /Cleanup schedule must be provided/ });
    await rejectsWith(db.query(`select * from absurd.enable_cron($1, 'x', 'y', null)`, [queue]), { message: /Detach schedule must be provided/ });
  });

  test('P58, P60: global and queue-scoped jobs coexist; disable_cron() removes only the global ones', async () => {
    await installMockCron();
    const queue = await db.createQueue();
    const s = await scope(queue);
    await db.query('select * from absurd.enable_cron($1)', [queue]);
    await db.query('select * from absurd.enable_cron()');
    assert.equal(await value(`select command from cron.job where jobname = 'absurd_partitions_all'`), 'select absurd.ensure_partitions(null::text);');
    const removed = (await db.query('select * from absurd.disable_cron()')).rows.map((row) => row.job_name);
    assert.deepEqual(removed, ['absurd_cleanup_all', 'absurd_detach_plan_all', 'absurd_partitions_all']);
    assert.deepEqual((await db.query('select jobname from cron.job order by jobname')).rows.map((row) => row.jobname),
      [`absurd_cleanup_${s}`, `absurd_detach_plan_${s}`, `absurd_partitions_${s}`]);
  });

  test('P59: disable_cron(q) removes the queue scope jobs, run jobs included, and is idempotent', async () => {
    await installMockCron();
    const queue = await db.createQueue();
    const s = await scope(queue);
    await db.query('select * from absurd.enable_cron($1)', [queue]);
    await db.query('select * from absurd.enable_cron()');
    for (const name of [`absurd_detach_run_${s}_demo`, `absurd_drop_run_${s}_demo`, 'absurd_detach_run_all_demo']) {
      await db.query(`select cron.schedule($1, '* * * * *', 'select 1')`, [name]);
    }
    const removed = (await db.query('select * from absurd.disable_cron($1)', [queue])).rows.map((row) => row.job_name);
    assert.deepEqual(removed, [`absurd_cleanup_${s}`, `absurd_detach_plan_${s}`, `absurd_detach_run_${s}_demo`, `absurd_drop_run_${s}_demo`, `absurd_partitions_${s}`]);
    assert.deepEqual((await db.query('select * from absurd.disable_cron($1)', [queue])).rows, []);
    assert.equal(await value('select count(*)::int from cron.job'), 4);
    assert.deepEqual((await db.query(`select * from absurd.disable_cron('never-registered')`)).rows, []);
  });

  test('P61: schedule_detach_jobs schedules nothing for unpartitioned queues and checks the queue', async () => {
    await installMockCron();
    const queue = await createUnpartitionedQueue();
    await db.query(`select absurd.set_queue_policy($1, '{"detach_mode":"empty","detach_min_age":"0 days"}')`, [queue]);
    await db.setFakeNow(new Date(Date.now() + 90 * 86400_000));
    assert.deepEqual((await db.query('select * from absurd.schedule_detach_jobs($1)', [queue])).rows, []);
    assert.deepEqual((await db.query('select * from absurd.schedule_detach_jobs()')).rows, []);
    assert.equal(await value('select count(*)::int from cron.job'), 0);
    await rejectsWith(db.query(`select * from absurd.schedule_detach_jobs('missing')`), { message: /does not exist/ });
  });
});
