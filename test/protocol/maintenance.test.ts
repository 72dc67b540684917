// Idempotent spawns, TTL cleanup, the faked clock, time-ordered ids, and input the database cannot
// store (NUL characters).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addSeconds,
  claimOne,
  completeRun,
  databaseNow,
  failRun,
  rejectsWith,
  spawnTask,
  taskRow,
  useProtocolDatabase,
  writeCheckpoint,
} from '../support/protocol-helpers.ts';

const start = new Date('2037-09-09T09:00:00.000Z');

describe('protocol: idempotency, cleanup and time', () => {
  const db = useProtocolDatabase({ fakeNow: start });

  const count = async (table: string) => (await db.query(`select count(*)::int as count from ${table}`)).rows[0].count;

  test('an idempotency key returns the existing task with its newest run, per queue, whatever its state', async () => {
    const queue = await db.createQueue();
    const otherQueue = await db.createQueue();
    const first = await spawnTask(db, queue, 'once', { a: 1 }, { idempotency_key: 'order-17', max_attempts: 3 });
    const again = await spawnTask(db, queue, 'different-name', { a: 2 }, { idempotency_key: 'order-17' });
    assert.deepEqual(again, { task_id: first.task_id, run_id: first.run_id, attempt: 1, created: false });
    assert.notEqual((await spawnTask(db, queue, 'once', {}, { idempotency_key: 'order-18' })).task_id, first.task_id);
    assert.notEqual((await spawnTask(db, otherQueue, 'once', {}, { idempotency_key: 'order-17' })).task_id, first.task_id);
    const claimed = await db.query('select run_id from absurd.claim_task($1, $2, 60, 10)', [queue, 'w']);
    assert.ok(claimed.rows.some((row) => row.run_id === first.run_id));
    await failRun(db, queue, first.run_id);
    const afterRetry = await spawnTask(db, queue, 'once', {}, { idempotency_key: 'order-17' });
    const task = await taskRow(db, queue, first.task_id);
    assert.deepEqual(afterRetry, { task_id: first.task_id, run_id: task.last_attempt_run, attempt: 2, created: false });
    const retryRun = await claimOne(db, queue);
    assert.equal(retryRun.run_id, afterRetry.run_id);
    await completeRun(db, queue, retryRun.run_id, 'done');
    assert.equal((await spawnTask(db, queue, 'once', {}, { idempotency_key: 'order-17' })).created, false, 'still taken after completion');
  });

  test('cleanup_tasks removes old finished tasks with their runs, checkpoints and waits, oldest first', async () => {
    const queue = await db.createQueue();
    const completed = await spawnTask(db, queue, 'completed', {}, { idempotency_key: 'reusable' });
    const claimed = await claimOne(db, queue);
    await writeCheckpoint(db, queue, completed.task_id, 'step', 1, claimed.run_id);
    await completeRun(db, queue, completed.run_id);
    await db.setFakeNow(addSeconds(start, 10));
    const failed = await spawnTask(db, queue, 'failed', {}, { max_attempts: 1 });
    await failRun(db, queue, (await claimOne(db, queue)).run_id);
    await db.setFakeNow(addSeconds(start, 20));
    const cancelled = await spawnTask(db, queue, 'cancelled');
    await db.query('select absurd.cancel_task($1, $2)', [queue, cancelled.task_id]);
    const running = await spawnTask(db, queue, 'running');
    const runningRun = await claimOne(db, queue);
    await db.query('select * from absurd.await_event($1, $2, $3, $4, $5)', [queue, running.task_id, runningRun.run_id, 'w', 'e']);

    await db.setFakeNow(addSeconds(start, 1000));
    const cleanup = async (ttl: number, limit: number | null) =>
      (await db.query('select absurd.cleanup_tasks($1, $2, $3) as deleted', [queue, ttl, limit])).rows[0].deleted;
    assert.equal(await cleanup(1001, null), 0, 'nothing finished more than 1001 s ago');
    assert.equal(await cleanup(995, 10), 1, 'only the completed task (finished at +0) is older than 995 s');
    assert.equal(await cleanup(0, 1), 1, 'limit 1: the failed task, the next oldest');
    assert.equal(await cleanup(0, 10), 1, 'then the cancelled one; the sleeping task stays');
    assert.equal(await count(`absurd."t_${queue}"`), 1);
    assert.equal(await count(`absurd."r_${queue}"`), 1);
    assert.equal(await count(`absurd."c_${queue}"`), 0);
    assert.equal(await count(`absurd."w_${queue}"`), 1);
    assert.equal((await spawnTask(db, queue, 'completed', {}, { idempotency_key: 'reusable' })).created, true, 'the key is free again');
    await rejectsWith(cleanup(-1, 10), { message: /ttl_seconds must be >= 0/ });
    await rejectsWith(db.query('select absurd.cleanup_tasks($1, null)', [queue]), { message: /ttl_seconds must be >= 0/ });
  });

  test('cleanup_events removes old events; cleanup_all_queues applies each queue policy', async () => {
    const queue = await db.createQueue();
    await db.query('select absurd.emit_event($1, $2, $3)', [queue, 'old', '1']);
    await db.setFakeNow(addSeconds(start, 100));
    await db.query('select absurd.emit_event($1, $2, $3)', [queue, 'new', '2']);
    assert.equal((await db.query('select absurd.cleanup_events($1, $2, $3) as deleted', [queue, 50, 10])).rows[0].deleted, 1);
    assert.deepEqual((await db.query(`select event_name from absurd."e_${queue}"`)).rows, [{ event_name: 'new' }]);

    await db.query('select absurd.set_queue_policy($1, $2)', [queue, '{"cleanup_ttl": "1 hour", "cleanup_limit": 5}']);
    const task = await spawnTask(db, queue, 'done');
    await claimOne(db, queue);
    await completeRun(db, queue, task.run_id);
    await db.setFakeNow(addSeconds(start, 100 + 3600 + 1));
    const { rows } = await db.query('select * from absurd.cleanup_all_queues($1)', [queue]);
    assert.deepEqual(rows, [{ queue_name: queue, tasks_deleted: 1, events_deleted: 1 }]);
    await rejectsWith(db.query('select * from absurd.cleanup_all_queues($1)', ['no-such-queue-here']), { message: /does not exist/ });
  });

  test('absurd.current_time follows absurd.fake_now, and SET ... = DEFAULT returns to the real clock', async () => {
    assert.deepEqual(await databaseNow(db), start);
    await db.query(`set absurd.fake_now = '2040-01-01T00:00:00Z'`);
    assert.deepEqual(await databaseNow(db), new Date('2040-01-01T00:00:00Z'));
    await db.query('set absurd.fake_now = default');
    const real = await databaseNow(db);
    assert.ok(Math.abs(real.getTime() - Date.now()) < 60_000, `real clock, got ${real.toISOString()}`);
    await db.setFakeNow(null);
    const later = await databaseNow(db);
    assert.ok(later.getTime() >= real.getTime(), 'wall clock time moves on within a transaction too');
  });

  test('task and run ids are UUIDv7 carrying the (faked) creation time', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    for (const id of [spawned.task_id, spawned.run_id]) {
      assert.equal(id[14], '7', `version 7: ${id}`);
      assert.ok('89ab'.includes(id[19]!), `RFC 4122 variant: ${id}`);
      const millis = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
      assert.equal(millis, start.getTime());
    }
    assert.equal((await db.query('select absurd.get_schema_version() as version')).rows[0].version, 'main');
  });

  test('NUL characters in JSON or names are refused with a clear error and nothing is stored', async () => {
    const queue = await db.createQueue();
    await rejectsWith(spawnTask(db, queue, 'nul', { text: 'a\u0000b' }), { code: '22P05', message: /unsupported Unicode escape sequence/ });
    await rejectsWith(db.sdk(queue).spawn('nul', { text: 'a\u0000b' }, { queue }), { code: '22P05' });
    await assert.rejects(spawnTask(db, queue, 'bad\u0000name', {}), (error: any) => {
      assert.match(String(error.message), /invalid byte sequence|0x00|null character/i);
      return true;
    });
    assert.equal(await count(`absurd."t_${queue}"`), 0);
  });
});
