// Cancellation: cancel_task in every state, and the max_delay / max_duration policies enforced by
// claim_task and fail_run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addSeconds,
  claimOne,
  claimTasks,
  completeRun,
  failRun,
  rejectsWith,
  runRow,
  runsOf,
  spawnTask,
  taskRow,
  useProtocolDatabase,
  writeCheckpoint,
} from '../support/protocol-helpers.ts';

const start = new Date('2036-07-07T07:00:00.000Z');

describe('protocol: cancellation', () => {
  const db = useProtocolDatabase({ fakeNow: start });

  const cancel = (queue: string, taskId: string) => db.query('select absurd.cancel_task($1, $2)', [queue, taskId]);

  test('a cancelled pending task is no longer claimable; cancelling again keeps cancelled_at', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    await cancel(queue, spawned.task_id);
    let task = await taskRow(db, queue, spawned.task_id);
    assert.equal(task.state, 'cancelled');
    assert.deepEqual(task.cancelled_at, start);
    assert.equal((await runRow(db, queue, spawned.run_id)).state, 'cancelled');
    assert.deepEqual(await claimTasks(db, queue), []);
    await db.setFakeNow(addSeconds(start, 50));
    await cancel(queue, spawned.task_id);
    task = await taskRow(db, queue, spawned.task_id);
    assert.deepEqual(task.cancelled_at, start);
  });

  test('a running handler meets AB001 at its next checkpoint, await, heartbeat, complete and fail', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue, { worker: 'busy', timeout: 60 });
    await cancel(queue, spawned.task_id);
    const run = await runRow(db, queue, claimed.run_id);
    assert.deepEqual({ state: run.state, by: run.claimed_by, expires: run.claim_expires_at }, { state: 'cancelled', by: null, expires: null });
    await rejectsWith(writeCheckpoint(db, queue, spawned.task_id, 'step', 1, claimed.run_id, 60), { code: 'AB001' });
    await rejectsWith(db.query('select * from absurd.await_event($1, $2, $3, $4, $5)', [queue, spawned.task_id, claimed.run_id, 's', 'e']), {
      code: 'AB001',
    });
    await rejectsWith(db.query('select absurd.extend_claim($1, $2, 60)', [queue, claimed.run_id]), { code: 'AB001' });
    await rejectsWith(completeRun(db, queue, claimed.run_id), { code: 'AB001' });
    await rejectsWith(failRun(db, queue, claimed.run_id), { code: 'AB001' });
  });

  test('cancelling a task that sleeps on an event cancels its run and removes its waits', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    await db.query('select * from absurd.await_event($1, $2, $3, $4, $5, $6)', [queue, spawned.task_id, claimed.run_id, 'w', 'never', 600]);
    await cancel(queue, spawned.task_id);
    assert.equal((await runRow(db, queue, claimed.run_id)).state, 'cancelled');
    assert.deepEqual((await db.query(`select * from absurd."w_${queue}"`)).rows, []);
    await db.query('select absurd.emit_event($1, $2, $3)', [queue, 'never', '1']);
    assert.equal((await runRow(db, queue, claimed.run_id)).state, 'cancelled', 'an emit does not revive it');
  });

  test('cancelling a completed or failed task does nothing; an unknown task is "not found"', async () => {
    const queue = await db.createQueue();
    const done = await spawnTask(db, queue, 'done');
    await claimOne(db, queue);
    await completeRun(db, queue, done.run_id, 'ok');
    const failed = await spawnTask(db, queue, 'failed', {}, { max_attempts: 1 });
    await claimOne(db, queue);
    await failRun(db, queue, failed.run_id);
    await cancel(queue, done.task_id);
    await cancel(queue, failed.task_id);
    assert.deepEqual(
      [(await taskRow(db, queue, done.task_id)).state, (await taskRow(db, queue, failed.task_id)).state],
      ['completed', 'failed'],
    );
    assert.equal((await taskRow(db, queue, done.task_id)).cancelled_at, null);
    await rejectsWith(cancel(queue, '00000000-0000-7000-8000-0000000000dd'), { message: /not found/i });
  });

  test('max_delay cancels a task that has not started by its deadline, at the next claim call', async () => {
    const queue = await db.createQueue();
    const late = await spawnTask(db, queue, 'late', {}, { cancellation: { max_delay: 60 } });
    await db.setFakeNow(addSeconds(start, 1));
    const prompt = await spawnTask(db, queue, 'prompt', {}, { cancellation: { max_delay: 60 } });
    await db.query(`update absurd."r_${queue}" set available_at = $2 where run_id = $1`, [late.run_id, addSeconds(start, 3600)]);
    const claimed = await claimOne(db, queue);
    assert.equal(claimed.task_id, prompt.task_id, 'claimed before its deadline');
    await db.setFakeNow(addSeconds(start, 59));
    await claimTasks(db, queue);
    assert.equal((await taskRow(db, queue, late.task_id)).state, 'pending');
    await db.setFakeNow(addSeconds(start, 60));
    await claimTasks(db, queue);
    const task = await taskRow(db, queue, late.task_id);
    assert.equal(task.state, 'cancelled');
    assert.deepEqual(task.cancelled_at, addSeconds(start, 60));
    assert.equal((await runRow(db, queue, late.run_id)).state, 'cancelled');
    await db.setFakeNow(addSeconds(start, 600));
    await claimTasks(db, queue);
    assert.equal((await taskRow(db, queue, prompt.task_id)).state, 'running', 'max_delay stops applying once a task has started');
  });

  test('max_duration cancels a running task at any claim after the deadline, counted from the first claim', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'long', {}, { cancellation: { max_duration: 100 } });
    await db.setFakeNow(addSeconds(start, 50));
    const claimed = await claimOne(db, queue, { worker: 'long-worker', timeout: 1000 });
    await db.setFakeNow(addSeconds(start, 149));
    await claimTasks(db, queue, { worker: 'other' });
    assert.equal((await taskRow(db, queue, spawned.task_id)).state, 'running', '100 s after the first claim, not after enqueue');
    await db.setFakeNow(addSeconds(start, 150));
    await claimTasks(db, queue, { worker: 'other' });
    const run = await runRow(db, queue, claimed.run_id);
    assert.deepEqual({ state: run.state, by: run.claimed_by, expires: run.claim_expires_at }, { state: 'cancelled', by: null, expires: null });
    assert.equal((await taskRow(db, queue, spawned.task_id)).state, 'cancelled');
    await rejectsWith(writeCheckpoint(db, queue, spawned.task_id, 'more', 1, claimed.run_id), { code: 'AB001' });
  });

  test('max_duration also cancels sleeping tasks, and fail_run cancels instead of retrying past it', async () => {
    const queue = await db.createQueue();
    const sleeper = await spawnTask(db, queue, 'sleeper', {}, { cancellation: { max_duration: 30 } });
    await claimOne(db, queue);
    await db.query('select absurd.schedule_run($1, $2, $3)', [queue, sleeper.run_id, addSeconds(start, 3600)]);
    await db.setFakeNow(addSeconds(start, 30));
    await claimTasks(db, queue);
    assert.equal((await taskRow(db, queue, sleeper.task_id)).state, 'cancelled');

    await db.setFakeNow(start);
    const flaky = await spawnTask(db, queue, 'flaky', {}, {
      max_attempts: 10,
      cancellation: { max_duration: 100 },
      retry_strategy: { kind: 'fixed', base_seconds: 60 },
    });
    const first = await claimOne(db, queue);
    await db.setFakeNow(addSeconds(start, 10));
    await failRun(db, queue, first.run_id);
    assert.equal((await taskRow(db, queue, flaky.task_id)).state, 'sleeping', 'a retry at +70 s is inside the limit');
    await db.setFakeNow(addSeconds(start, 70));
    const second = await claimOne(db, queue);
    await failRun(db, queue, second.run_id);
    const task = await taskRow(db, queue, flaky.task_id);
    assert.equal(task.state, 'cancelled', 'a retry at +130 s would pass the 100 s limit');
    assert.equal(task.last_attempt_run, second.run_id);
    assert.deepEqual(task.cancelled_at, addSeconds(start, 70));
    assert.deepEqual((await runsOf(db, queue, flaky.task_id)).map((run) => run.state), ['failed', 'failed']);
    assert.deepEqual(
      (await db.query('select state, result, failure_reason from absurd.get_task_result($1, $2)', [queue, flaky.task_id])).rows,
      [{ state: 'cancelled', result: null, failure_reason: null }],
    );
  });

  test('the SDK stops a cancelled handler quietly at its next step', async () => {
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    const reached: string[] = [];
    absurd.registerTask({ name: 'cancellable' }, async (_params, context) => {
      await context.step('first', async () => reached.push('first'));
      await absurd.cancelTask(context.taskID);
      await context.step('second', async () => reached.push('second'));
      return 'finished';
    });
    const { taskID } = await absurd.spawn('cancellable', {});
    await absurd.workBatch('w', 60, 1);
    assert.deepEqual(reached, ['first', 'second'], 'the step body runs; its checkpoint write is refused');
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'cancelled' });
    const { rows } = await db.query(`select checkpoint_name from absurd."c_${queue}"`);
    assert.deepEqual(rows, [{ checkpoint_name: 'first' }]);
  });
});
