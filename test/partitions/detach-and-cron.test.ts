// Retiring old weeks of partitioned queues: detach candidates, the detach/drop pipeline planned as
// pg_cron jobs (against a cron schema of pg_cron's shape, whose jobs the test then runs itself the way
// pg_cron would), policy cleanup of all queues, and drop_queue with cron jobs installed. Test names
// carry the numbers of the statements they check in the partitioned-storage specification.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { completeRun, claimOne, needsPostgres, rejectsWith, spawnTask, useProtocolDatabase } from '../support/protocol-helpers.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import {
  addDays,
  childrenOf,
  createPartitionedQueue,
  dropMockCron,
  installMockCron,
  prefixes,
  relkind,
  scalar,
  weekTag,
} from './partition-helpers.ts';

const base = '2024-04-01T12:00:00.000Z';

describe('partitions: detach candidates, detach jobs and cron', () => {
  const db = useProtocolDatabase({ fakeNow: base });
  beforeEach(async () => {
    await dropMockCron(db);
  });
  const setPolicy = (queue: string, value: unknown) => db.query('select absurd.set_queue_policy($1, $2)', [queue, JSON.stringify(value)]);
  const candidates = async (queue: string | null) =>
    (await db.query('select * from absurd.list_detach_candidates($1)', [queue])).rows as { queue_name: string; parent_table: string; partition_table: string }[];
  const scope = (queue: string) => scalar<string>(db, 'select substr(md5($1), 1, 12)', [queue]);
  const jobs = async () => (await db.query('select jobname, schedule, command from cron.job order by jobname')).rows as
    { jobname: string; schedule: string; command: string }[];

  test('P50: the default policy has no candidates; detach_mode empty gives old empty weeks, never DEFAULT', async () => {
    const queue = await createPartitionedQueue(db);
    await db.setFakeNow(addDays(base, 120));
    assert.deepEqual(await candidates(queue), []);
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '30 days' });
    const rows = await candidates(queue);
    assert.ok(rows.length >= 4, JSON.stringify(rows));
    assert.ok(rows.every((row) => row.queue_name === queue && !row.partition_table.endsWith('_d')));
    assert.deepEqual([...new Set(rows.map((row) => row.parent_table))].sort(), prefixes.map((prefix) => `${prefix}_${queue}`).sort());
    assert.ok((await candidates(null)).some((row) => row.queue_name === queue));
    await rejectsWith(db.query('select * from absurd.list_detach_candidates($1)', [uniqueQueueName('missing')]), { message: /does not exist/ });
  });

  test('P51: candidates are listed with default partitions disabled', async () => {
    const queue = await createPartitionedQueue(db);
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '30 days', default_partition: 'disabled' });
    await db.setFakeNow(addDays(base, 120));
    const rows = await candidates(queue);
    assert.ok(rows.length > 0 && rows.every((row) => row.queue_name === queue));
  });

  test('P52: a week holding rows is not a candidate for the tables that hold them', async () => {
    await db.setFakeNow('2024-04-08T09:00:00Z');
    const queue = await createPartitionedQueue(db);
    await spawnTask(db, queue);
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '0 days' });
    await db.setFakeNow(addDays('2024-04-08T09:00:00Z', 60));
    const tag = await weekTag(db, '2024-04-08T09:00:00Z');
    const names = (await candidates(queue)).map((row) => row.partition_table);
    assert.ok(!names.includes(`t_${queue}_${tag}`) && !names.includes(`r_${queue}_${tag}`), names.join(', '));
    assert.ok(names.includes(`c_${queue}_${tag}`) && names.includes(`w_${queue}_${tag}`), 'empty checkpoint and wait weeks are');
  });

  test('P53: the age comparison is strict, to the millisecond', async () => {
    const queue = await createPartitionedQueue(db);
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '0 days' });
    const tags = async () => [...new Set((await candidates(queue)).map((row) => row.partition_table.slice(-3)))].sort();
    assert.deepEqual(await tags(), ['413']);
    await db.setFakeNow('2024-04-15T00:00:00.000Z');
    assert.deepEqual(await tags(), ['413', '414']);
    await db.setFakeNow('2024-04-15T00:00:00.001Z');
    assert.deepEqual(await tags(), ['413', '414', '415']);
  });

  test('P61: schedule_detach_jobs plans a detach and a drop job for each parent oldest candidate, once', async () => {
    const queue = await createPartitionedQueue(db);
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '0 days' });
    await installMockCron(db);
    await db.setFakeNow(addDays(base, 90));
    const all = await candidates(queue);
    const rows = (await db.query('select * from absurd.schedule_detach_jobs($1)', [queue])).rows;
    assert.deepEqual(rows.map((row) => `${row.job_kind}:${row.partition_table.slice(0, 1)}`),
      ['detach:c', 'drop:c', 'detach:r', 'drop:r', 'detach:t', 'drop:t', 'detach:w', 'drop:w']);
    for (const prefix of prefixes) {
      const oldest = all.filter((row) => row.parent_table === `${prefix}_${queue}`).map((row) => row.partition_table).sort()[0];
      assert.equal(rows.find((row) => row.job_kind === 'detach' && row.partition_table.startsWith(`${prefix}_`))?.partition_table, oldest);
    }
    const s = await scope(queue);
    const runJobs = (await jobs()).filter((job) => job.jobname.startsWith(`absurd_detach_run_${s}_`) || job.jobname.startsWith(`absurd_drop_run_${s}_`));
    assert.equal(runJobs.length, 8);
    for (const job of runJobs) assert.equal(job.schedule, '* * * * *');
    for (const job of runJobs.filter((job) => job.jobname.startsWith('absurd_detach_run_'))) {
      assert.match(job.command, /^alter table absurd\.\S+ detach partition absurd\.\S+$/);
      assert.doesNotMatch(job.command, /concurrently|cron\.unschedule/);
    }
    for (const job of runJobs.filter((job) => job.jobname.startsWith('absurd_drop_run_'))) {
      assert.equal(job.command, `select absurd.drop_detached_partition('${rows.find((row) => row.job_name === job.jobname)?.partition_table}', '${job.jobname}');`);
    }
    const parentKey = await scalar<string>(db, 'select substr(md5($1), 1, 8)', [`t_${queue}`]);
    const tOldest = rows.find((row) => row.job_kind === 'detach' && row.partition_table.startsWith('t_'))!.partition_table;
    const candidateKey = await scalar<string>(db, 'select substr(md5($1), 1, 12)', [`t_${queue}:${tOldest}`]);
    assert.ok(rows.some((row) => row.job_name === `absurd_detach_run_${s}_${parentKey}_${candidateKey}`));
    assert.deepEqual((await db.query('select * from absurd.schedule_detach_jobs($1)', [queue])).rows, []);
  });

  test('P62, P64: a parent with a pipeline in flight is skipped; running the jobs retires the oldest week', async () => {
    const queue = await createPartitionedQueue(db);
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '0 days' });
    await installMockCron(db);
    await db.setFakeNow(addDays(base, 90));
    const planned = (await db.query('select * from absurd.schedule_detach_jobs($1)', [queue])).rows;
    const tOldest = planned.find((row) => row.job_kind === 'detach' && row.partition_table.startsWith('t_'))!.partition_table;
    const tDrop = planned.find((row) => row.job_kind === 'drop' && row.partition_table === tOldest)!;
    const tDetach = planned.find((row) => row.job_kind === 'detach' && row.partition_table === tOldest)!;
    // The detach job fires: the child is detached; the drop job then drops it and retires both jobs.
    await db.query(`select command from cron.job where jobname = $1`, [tDetach.job_name]).then(({ rows }) => db.query(rows[0].command));
    assert.ok(!(await childrenOf(db, `t_${queue}`)).includes(tOldest));
    assert.equal(await relkind(db, tOldest), 'r', 'detached, still there');
    const dropCommand: string = await scalar(db, `select command from cron.job where jobname = $1`, [tDrop.job_name]);
    assert.equal(await scalar(db, dropCommand), true);
    assert.equal(await relkind(db, tOldest), undefined);
    assert.equal(await scalar(db, 'select count(*)::int from cron.job where jobname = any($1)', [[tDrop.job_name, tDetach.job_name]]), 0);
    assert.equal(await scalar(db, dropCommand), false, 'a second run finds nothing to drop');
    // Everything but one drop job gone: only that parent (now with a new oldest week) is still busy.
    await db.query(`select cron.schedule($1, '* * * * *', 'select 1')`, [tDrop.job_name]);
    await db.query('delete from cron.job where jobname <> $1', [tDrop.job_name]);
    const replanned = (await db.query(`select * from absurd.schedule_detach_jobs($1) where job_kind = 'detach'`, [queue])).rows;
    assert.deepEqual(replanned.map((row) => row.partition_table.slice(0, 2)).sort(), ['c_', 'r_', 'w_']);
  });

  test('P63, P65: with defaults disabled the detach command is concurrent, and it runs outside a transaction', async () => {
    const queue = await createPartitionedQueue(db);
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '0 days', default_partition: 'disabled' });
    await installMockCron(db);
    await db.setFakeNow(addDays(base, 90));
    const planned = (await db.query(`select * from absurd.schedule_detach_jobs($1) where job_kind = 'detach'`, [queue])).rows;
    const detachJobs = (await jobs()).filter((job) => job.jobname.startsWith('absurd_detach_run_'));
    assert.equal(detachJobs.length, 4);
    for (const job of detachJobs) assert.match(job.command, / concurrently$/);
    if (needsPostgres) return;
    const session = await db.connect();
    const job = detachJobs[0]!;
    await session.query(job.command);
    const detached = planned.find((row) => row.job_name === job.jobname)!.partition_table;
    assert.equal(await relkind(db, detached), 'r');
    assert.equal(await scalar(db, `select count(*)::int from pg_inherits where inhrelid = to_regclass(format('absurd.%I', $1::text))`, [detached]), 0);
  });

  test('P46: cleanup_all_queues runs one batch per queue under each queue policy, one row per queue', async () => {
    const queues = [await createPartitionedQueue(db, 'c1'), await db.createQueue('c2')].sort();
    for (const queue of queues) {
      await spawnTask(db, queue);
      await completeRun(db, queue, (await claimOne(db, queue)).run_id);
      await db.query(`select absurd.emit_event($1, 'e', null)`, [queue]);
      await setPolicy(queue, { cleanup_ttl: '3600 seconds', cleanup_limit: 10 });
    }
    await db.setFakeNow(addDays(base, 2));
    const rows = (await db.query('select * from absurd.cleanup_all_queues() where queue_name = any($1) order by queue_name', [queues])).rows;
    assert.deepEqual(rows, queues.map((queue) => ({ queue_name: queue, tasks_deleted: 1, events_deleted: 1 })));
    assert.deepEqual((await db.query('select * from absurd.cleanup_all_queues($1)', [queues[0]])).rows,
      [{ queue_name: queues[0], tasks_deleted: 0, events_deleted: 0 }]);
    await rejectsWith(db.query('select * from absurd.cleanup_all_queues($1)', [uniqueQueueName('missing')]), { message: /does not exist/ });
  });

  test('§7: cleanup_tasks and cleanup_events take 1000 as their default limit', async () => {
    const defaults = (await db.query(`select proname::text, pg_get_function_arguments(oid) as args from pg_proc
      where pronamespace = 'absurd'::regnamespace and proname in ('cleanup_tasks', 'cleanup_events') order by 1`)).rows;
    assert.deepEqual(defaults.map((row) => row.args), [
      'p_queue_name text, p_ttl_seconds integer, p_limit integer DEFAULT 1000',
      'p_queue_name text, p_ttl_seconds integer, p_limit integer DEFAULT 1000',
    ]);
  });

  test('P47: drop_queue removes the queue-scoped cron jobs, run jobs included, and keeps the others', async () => {
    await installMockCron(db);
    const queue = await createPartitionedQueue(db);
    const s = await scope(queue);
    await db.query('select * from absurd.enable_cron($1)', [queue]);
    await db.query('select * from absurd.enable_cron()');
    for (const name of [`absurd_detach_run_${s}_demo`, `absurd_drop_run_${s}_demo`]) {
      await db.query(`select cron.schedule($1, '* * * * *', 'select 1')`, [name]);
    }
    await db.query('select absurd.drop_queue($1)', [queue]);
    assert.deepEqual((await jobs()).map((job) => job.jobname), ['absurd_cleanup_all', 'absurd_detach_plan_all', 'absurd_partitions_all']);
  });

  test('P49: drop_queue removes an overlong legacy queue, with and without pg_cron', async () => {
    for (const withCron of [false, true]) {
      if (withCron) await installMockCron(db);
      const name = `${'l'.repeat(48)}${uniqueQueueName('')}`;
      assert.equal(Buffer.byteLength(name), 59);
      await db.query('insert into absurd.queues (queue_name) values ($1)', [name]);
      for (const prefix of ['t', 'r', 'c', 'e', 'w']) await db.query(`create table absurd."${prefix}_${name}" (id integer)`);
      await db.query('select absurd.drop_queue($1)', [name]);
      assert.equal(await scalar(db, 'select count(*)::int from absurd.queues where queue_name = $1', [name]), 0);
      assert.equal(await relkind(db, `t_${name}`), undefined);
    }
  });

  test('P57, P58: enable_cron jobs on a partitioned queue provision, clean up and plan detaches when run', async () => {
    await installMockCron(db);
    const queue = await createPartitionedQueue(db, 'cron-partitioned');
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '0 days', partition_lookahead: '60 days' });
    const returned = (await db.query(`select * from absurd.enable_cron($1, '*/15 * * * *', '7 * * * *')`, [queue])).rows;
    assert.deepEqual(returned.map((row) => row.job_name.replace(/_[0-9a-f]{12}$/, '')).sort(), ['absurd_cleanup', 'absurd_detach_plan', 'absurd_partitions']);
    await db.setFakeNow(addDays(base, 90));
    for (const job of await jobs()) await db.query(job.command);
    assert.equal(await relkind(db, `t_${queue}_${await weekTag(db, addDays(base, 150))}`), 'r', 'the partitions job provisioned ahead');
    const s = await scope(queue);
    assert.equal((await jobs()).filter((job) => job.jobname.startsWith(`absurd_detach_run_${s}_`)).length, 4, 'the planner ran');
    await db.query(`select * from absurd.enable_cron($1, '1 * * * *')`, [queue]);
    assert.equal((await jobs()).filter((job) => !job.jobname.includes('_run_')).length, 3);
  });

  test('P59: disable_cron(q) removes maintenance and run jobs of its scope; a second call removes nothing', async () => {
    const queue = await createPartitionedQueue(db);
    await setPolicy(queue, { detach_mode: 'empty', detach_min_age: '0 days' });
    await installMockCron(db);
    await db.query('select * from absurd.enable_cron($1)', [queue]);
    await db.setFakeNow(addDays(base, 90));
    await db.query('select * from absurd.schedule_detach_jobs($1)', [queue]);
    const removed = (await db.query('select * from absurd.disable_cron($1)', [queue])).rows.map((row) => row.job_name as string);
    for (const prefix of ['absurd_cleanup_', 'absurd_detach_plan_', 'absurd_partitions_', 'absurd_detach_run_', 'absurd_drop_run_']) {
      assert.ok(removed.some((name) => name.startsWith(prefix)), prefix);
    }
    assert.deepEqual((await db.query('select * from absurd.disable_cron($1)', [queue])).rows, []);
    assert.equal(await scalar(db, 'select count(*)::int from cron.job'), 0);
  });

  test('P56: without pg_cron the planner says so before looking at candidates', async () => {
    const queue = await createPartitionedQueue(db);
    await rejectsWith(db.query('select * from absurd.schedule_detach_jobs($1)', [queue]), { message: /pg_cron is not available \(missing cron\.job\)/ });
    await rejectsWith(db.query('select * from absurd.schedule_detach_jobs($1)', [uniqueQueueName('missing')]), { message: /missing cron\.job/ });
    await rejectsWith(db.query('select * from absurd.enable_cron($1)', [queue]), { message: /missing cron\.job/ });
  });
});
