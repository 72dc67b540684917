// The protocol on partitioned queues, through the unmodified absurd-sdk client and the raw functions:
// spawn idempotency through i_<queue>, claims, checkpoints, events and retries across weeks, rows in
// the DEFAULT children, cleanup (which frees keys) and drop. Test names carry the numbers of the
// statements they check in the partitioned-storage specification.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  claimOne,
  completeRun,
  failRun,
  needsPostgres,
  rejectsWith,
  spawnTask,
  useProtocolDatabase,
} from '../support/protocol-helpers.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { addDays, createPartitionedQueue, holdingChild, scalar, weekTag } from './partition-helpers.ts';

const base = '2024-05-01T09:00:00.000Z';

describe('partitions: the protocol on a partitioned queue', () => {
  const db = useProtocolDatabase({ fakeNow: base });

  test('P37: spawns with one key share a task, recorded in i_<queue>, even when the rows sit in DEFAULT', async () => {
    await db.setFakeNow(null);
    const queue = await createPartitionedQueue(db, 'idempotent_partitioned');
    await db.setFakeNow('2024-04-01T10:00:00Z');
    const first = await spawnTask(db, queue, 'work', {}, { idempotency_key: 'registry-key' });
    const second = await spawnTask(db, queue, 'work', {}, { idempotency_key: 'registry-key' });
    assert.equal(first.created, true);
    assert.deepEqual({ ...second, created: true }, first);
    assert.equal(second.created, false);
    assert.equal(await scalar(db, `select task_id::text from absurd."i_${queue}" where idempotency_key = 'registry-key'`), first.task_id);
    assert.equal(await holdingChild(db, 't', queue, 'task_id', first.task_id), `t_${queue}_d`);
    assert.equal(await scalar(db, `select idempotency_key from absurd."t_${queue}" where task_id = $1`, [first.task_id]), 'registry-key');
  });

  test('P38, P43: a key keeps its task across weeks; retries get runs in the week they are made, checkpoints stay', async () => {
    const queue = await createPartitionedQueue(db);
    const spawned = await spawnTask(db, queue, 'work', {}, { idempotency_key: 'weekly', max_attempts: 5 });
    const tag = await weekTag(db, base);
    assert.equal(await holdingChild(db, 't', queue, 'task_id', spawned.task_id), `t_${queue}_${tag}`);
    const first = await claimOne(db, queue);
    await db.query('select absurd.set_task_checkpoint_state($1, $2, $3, $4, $5, $6)', [queue, spawned.task_id, 'step', '"one"', first.run_id, null]);
    await db.setFakeNow(addDays(base, 8));
    const again = await spawnTask(db, queue, 'work', {}, { idempotency_key: 'weekly' });
    assert.equal(again.task_id, spawned.task_id);
    assert.equal(again.created, false);
    await failRun(db, queue, first.run_id);
    const second = await claimOne(db, queue);
    assert.equal(second.attempt, 2);
    assert.equal(await holdingChild(db, 'r', queue, 'run_id', second.run_id), `r_${queue}_${await weekTag(db, addDays(base, 8))}`);
    await db.setFakeNow('2024-08-09T12:00:00Z');
    await failRun(db, queue, second.run_id);
    const third = await claimOne(db, queue);
    assert.equal(await holdingChild(db, 'r', queue, 'run_id', third.run_id), `r_${queue}_d`);
    assert.equal(await holdingChild(db, 'c', queue, 'task_id', spawned.task_id), `c_${queue}_${tag}`);
    const respawn = await spawnTask(db, queue, 'work', {}, { idempotency_key: 'weekly' });
    assert.deepEqual(respawn, { task_id: spawned.task_id, run_id: third.run_id, attempt: 3, created: false });
    assert.equal(await scalar(db, `select count(*)::int from absurd."t_${queue}"`), 1);
  });

  test('P39: a key whose task vanished is a serialization failure that says to retry', async () => {
    const queue = await createPartitionedQueue(db);
    await db.query(`insert into absurd."i_${queue}" (idempotency_key, task_id) values ('orphan', absurd.portable_uuidv7())`);
    await rejectsWith(db.query(`select * from absurd.spawn_task($1, 'work', '{}', '{"idempotency_key":"orphan"}')`, [queue]),
      { code: '40001', message: new RegExp(`Idempotency key "orphan" in queue "${queue}" was concurrently cleaned up`) });
  });

  test('P41: tasks in the DEFAULT children are claimed and completed like any other', async () => {
    const queue = await createPartitionedQueue(db);
    await db.query(`select absurd.set_queue_policy($1, '{"partition_lookahead":"7 days","partition_lookback":"1 day"}')`, [queue]);
    await db.query('select absurd.ensure_partitions($1)', [queue]);
    await db.setFakeNow(addDays(base, 240));
    const spawned = await spawnTask(db, queue);
    assert.equal(await holdingChild(db, 't', queue, 'task_id', spawned.task_id), `t_${queue}_d`);
    assert.equal(await holdingChild(db, 'r', queue, 'run_id', spawned.run_id), `r_${queue}_d`);
    const claimed = await claimOne(db, queue);
    assert.equal(claimed.run_id, spawned.run_id);
    await completeRun(db, queue, claimed.run_id, { ok: true });
    assert.deepEqual((await db.query(`select t.state as task, r.state as run from absurd."t_${queue}" t join absurd."r_${queue}" r using (task_id)`)).rows,
      [{ task: 'completed', run: 'completed' }]);
  });

  test('P42: an event emitted a week later wakes the same run, and await_event then returns the payload', async () => {
    const queue = await createPartitionedQueue(db);
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    const waited = (await db.query('select * from absurd.await_event($1, $2, $3, $4, $5, $6)',
      [queue, spawned.task_id, claimed.run_id, 'wait', 'ready', null])).rows[0];
    assert.equal(waited.should_suspend, true);
    await db.setFakeNow(addDays(base, 8));
    await db.query(`select absurd.emit_event($1, 'ready', '{"n":1}')`, [queue]);
    const resumed = await claimOne(db, queue);
    assert.equal(resumed.run_id, claimed.run_id);
    const again = (await db.query('select * from absurd.await_event($1, $2, $3, $4, $5, $6)',
      [queue, spawned.task_id, claimed.run_id, 'wait', 'ready', null])).rows[0];
    assert.deepEqual({ suspend: again.should_suspend, payload: again.payload }, { suspend: false, payload: { n: 1 } });
  });

  test('§6: the absurd-sdk client runs steps, retries and events on a partitioned queue', async () => {
    const queue = uniqueQueueName('sdk');
    const absurd = db.sdk(queue);
    await absurd.createQueue(queue, { storageMode: 'partitioned', cleanupTtl: '1 day' });
    let executions = 0;
    absurd.registerTask({ name: 'steps' }, async (_params, context) => {
      executions++;
      const first = await context.step('first', async () => `run ${executions}`);
      if (executions === 1) throw new Error('retry me');
      const payload = await context.awaitEvent('go');
      return { first, payload };
    });
    const { taskID } = await absurd.spawn('steps', {}, { retryStrategy: { kind: 'none' }, maxAttempts: 3, idempotencyKey: 'sdk-key' });
    const duplicate = await absurd.spawn('steps', {}, { idempotencyKey: 'sdk-key' });
    assert.equal(duplicate.taskID, taskID);
    await absurd.workBatch('w', 60, 1);
    await absurd.workBatch('w', 60, 1);
    assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'sleeping');
    await absurd.emitEvent('go', { ok: 1 });
    await absurd.workBatch('w', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: { first: 'run 1', payload: { ok: 1 } } });
    assert.equal(executions, 3);
  });

  test('P44, P45: cleanup removes old finished tasks with their keys, keeps newer rows, and the key spawns anew', async () => {
    const queue = await createPartitionedQueue(db);
    const old = await spawnTask(db, queue, 'work', {}, { idempotency_key: 'reuse' });
    await completeRun(db, queue, (await claimOne(db, queue)).run_id);
    await db.query(`select absurd.emit_event($1, 'old', null)`, [queue]);
    await db.setFakeNow(addDays(base, 1));
    const pending = await spawnTask(db, queue);
    await db.query(`select absurd.emit_event($1, 'new', null)`, [queue]);
    await db.query(`select absurd.set_queue_policy($1, '{"cleanup_ttl":"3600 seconds"}')`, [queue]);
    assert.deepEqual((await db.query('select * from absurd.cleanup_all_queues($1)', [queue])).rows,
      [{ queue_name: queue, tasks_deleted: 1, events_deleted: 1 }]);
    assert.deepEqual((await db.query(`select task_id::text from absurd."t_${queue}"`)).rows, [{ task_id: pending.task_id }]);
    assert.deepEqual((await db.query(`select event_name from absurd."e_${queue}"`)).rows, [{ event_name: 'new' }]);
    assert.equal(await scalar(db, `select count(*)::int from absurd."i_${queue}"`), 0);
    const fresh = await spawnTask(db, queue, 'work', {}, { idempotency_key: 'reuse' });
    assert.notEqual(fresh.task_id, old.task_id);
    assert.deepEqual({ created: fresh.created, attempt: fresh.attempt }, { created: true, attempt: 1 });
    assert.equal(await scalar(db, `select count(*)::int from absurd."i_${queue}"`), 1);
  });

  test('§8: drop_queue removes parents, children, i_ and generated functions', async () => {
    const queue = await createPartitionedQueue(db);
    await spawnTask(db, queue, 'work', {}, { idempotency_key: 'k' });
    await db.query('select absurd.drop_queue($1)', [queue]);
    assert.equal(await scalar(db, `select count(*)::int from pg_class where relnamespace = 'absurd'::regnamespace and relname like '%' || $1 || '%'`, [queue]), 0);
    assert.equal(await scalar(db, 'select count(*)::int from absurd.queues where queue_name = $1', [queue]), 0);
    await rejectsWith(db.query(`select * from absurd.spawn_task($1, 'work', '{}', '{}')`, [queue]), { message: /does not exist/ });
  });

  test('§6.1: eight concurrent spawns with one new key create one task', { skip: needsPostgres }, async () => {
    const queue = await createPartitionedQueue(db);
    const sessions = await Promise.all(Array.from({ length: 8 }, () => db.connect()));
    const results = await Promise.all(sessions.map((session) =>
      spawnTask({ query: (text, params) => session.query(text, params as unknown[]) as any }, queue, 'work', {}, { idempotency_key: 'race' })));
    assert.equal(results.filter((row) => row.created).length, 1);
    assert.equal(new Set(results.map((row) => row.task_id)).size, 1);
    assert.equal(await scalar(db, `select count(*)::int from absurd."t_${queue}"`), 1);
    assert.equal(await scalar(db, `select count(*)::int from absurd."i_${queue}"`), 1);
  });
});
