// Leases: lazy expiry swept by the next claim, writes racing the sweep, the attempt guard, and
// heartbeats.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addSeconds,
  claimOne,
  claimTasks,
  completeRun,
  rejectsWith,
  runRow,
  runsOf,
  spawnTask,
  taskRow,
  useProtocolDatabase,
  writeCheckpoint,
  type SpawnedRow,
} from '../support/protocol-helpers.ts';

const start = new Date('2033-01-10T08:00:00.000Z');

describe('protocol: leases', () => {
  const db = useProtocolDatabase({ fakeNow: start });

  const checkpointOf = async (queue: string, taskId: string, step: string) =>
    (await db.query('select * from absurd.get_task_checkpoint_state($1, $2, $3)', [queue, taskId, step])).rows[0];

  test('an expired lease is failed with $ClaimTimeout by the next claim, which returns the retry at once', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'slow', {}, { max_attempts: 3 });
    await claimOne(db, queue, { worker: 'crashed-worker', timeout: 30 });
    await db.setFakeNow(addSeconds(start, 29));
    assert.deepEqual(await claimTasks(db, queue, { worker: 'rescuer' }), [], 'not expired yet');
    await db.setFakeNow(addSeconds(start, 31));
    const [retry] = await claimTasks(db, queue, { worker: 'rescuer' });
    assert.ok(retry);
    assert.equal(retry.task_id, spawned.task_id);
    assert.equal(retry.attempt, 2);
    const expired = await runRow(db, queue, spawned.run_id);
    assert.equal(expired.state, 'failed');
    assert.equal(expired.claimed_by, 'crashed-worker', 'the failed run keeps its worker');
    assert.deepEqual(expired.claim_expires_at, addSeconds(start, 30), 'and its expiry');
    assert.deepEqual(expired.failed_at, addSeconds(start, 31));
    const reason = expired.failure_reason;
    assert.equal(reason.name, '$ClaimTimeout');
    assert.equal(reason.workerId, 'crashed-worker');
    assert.equal(reason.attempt, 1);
    assert.equal(new Date(reason.claimExpiredAt).getTime(), addSeconds(start, 30).getTime());
    assert.match(reason.message, /crashed-worker/);
    const task = await taskRow(db, queue, spawned.task_id);
    assert.equal(task.state, 'running');
    assert.equal(task.attempts, 2);
    assert.equal(task.last_attempt_run, retry.run_id);
  });

  test('the sweep fails at most qty expired runs per claim call and applies the retry rules', async () => {
    const queue = await db.createQueue();
    const tasks: SpawnedRow[] = [];
    for (let index = 0; index < 3; index++) tasks.push(await spawnTask(db, queue, 'x', { index }, { max_attempts: 1 }));
    assert.equal((await claimTasks(db, queue, { qty: 3, timeout: 10 })).length, 3);
    await db.setFakeNow(addSeconds(start, 60));
    assert.deepEqual(await claimTasks(db, queue, { qty: 2 }), [], 'no attempts left, so nothing to hand out');
    const states = async () => (await Promise.all(tasks.map((task) => runRow(db, queue, task.run_id)))).map((run) => run.state).sort();
    assert.deepEqual(await states(), ['failed', 'failed', 'running']);
    await claimTasks(db, queue, { qty: 1 });
    assert.deepEqual(await states(), ['failed', 'failed', 'failed']);
    for (const task of tasks) assert.equal((await taskRow(db, queue, task.task_id)).state, 'failed');
  });

  test('a checkpoint write before the sweep succeeds and extends the lease; after it, AB002 and no row', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'writer', {}, { max_attempts: 2 });
    const claimed = await claimOne(db, queue, { timeout: 30 });
    await db.setFakeNow(addSeconds(start, 45));
    await writeCheckpoint(db, queue, spawned.task_id, 'late-but-unswept', { v: 1 }, claimed.run_id, 30);
    assert.deepEqual((await runRow(db, queue, claimed.run_id)).claim_expires_at, addSeconds(start, 75), 'extended from now');
    assert.deepEqual(await claimTasks(db, queue, { worker: 'other' }), [], 'the extended lease is live again');
    await db.setFakeNow(addSeconds(start, 80));
    const [retry] = await claimTasks(db, queue, { worker: 'other' });
    assert.equal(retry?.attempt, 2);
    await rejectsWith(writeCheckpoint(db, queue, spawned.task_id, 'after-sweep', { v: 2 }, claimed.run_id, 30), { code: 'AB002' });
    assert.equal(await checkpointOf(queue, spawned.task_id, 'after-sweep'), undefined, 'nothing written by the failed run');
    assert.deepEqual((await checkpointOf(queue, spawned.task_id, 'late-but-unswept')).state, { v: 1 });
  });

  test('a stale attempt never overwrites a checkpoint written by a newer attempt', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'race', {}, { max_attempts: 3 });
    const first = await claimOne(db, queue, { timeout: 10 });
    await writeCheckpoint(db, queue, spawned.task_id, 'shared', 'attempt 1 early', first.run_id);
    await db.setFakeNow(addSeconds(start, 20));
    const second = await claimOne(db, queue, { worker: 'new' });
    assert.equal(second.attempt, 2);
    await writeCheckpoint(db, queue, spawned.task_id, 'shared', 'attempt 2', second.run_id);
    // The first attempt's run failed in the sweep; pretend the write raced the sweep and got through.
    await db.query(`update absurd."r_${queue}" set state = 'running' where run_id = $1`, [first.run_id]);
    await writeCheckpoint(db, queue, spawned.task_id, 'shared', 'attempt 1 late', first.run_id);
    const row = await checkpointOf(queue, spawned.task_id, 'shared');
    assert.equal(row.state, 'attempt 2');
    assert.equal(row.owner_run_id, second.run_id);
    await writeCheckpoint(db, queue, spawned.task_id, 'shared', 'attempt 2 again', second.run_id);
    assert.equal((await checkpointOf(queue, spawned.task_id, 'shared')).state, 'attempt 2 again', 'the same attempt may overwrite');
  });

  test('complete_run and extend_claim still work after expiry as long as no claim has swept the run', async () => {
    const queue = await db.createQueue();
    const extended = await spawnTask(db, queue, 'extend');
    const completed = await spawnTask(db, queue, 'complete');
    await claimTasks(db, queue, { qty: 2, timeout: 5 });
    await db.setFakeNow(addSeconds(start, 100));
    await db.query('select absurd.extend_claim($1, $2, $3)', [queue, extended.run_id, 10]);
    assert.deepEqual((await runRow(db, queue, extended.run_id)).claim_expires_at, addSeconds(start, 110));
    await completeRun(db, queue, completed.run_id, 'done late');
    assert.equal((await taskRow(db, queue, completed.task_id)).state, 'completed');
  });

  test('extend_claim counts from now and rejects 0, negative and NULL with "extend_by must be > 0"', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    await claimOne(db, queue, { timeout: 300 });
    await db.setFakeNow(addSeconds(start, 10));
    await db.query('select absurd.extend_claim($1, $2, $3)', [queue, spawned.run_id, 20]);
    assert.deepEqual((await runRow(db, queue, spawned.run_id)).claim_expires_at, addSeconds(start, 30), 'now + 20, not old expiry + 20');
    for (const value of [0, -5, null]) {
      await rejectsWith(db.query('select absurd.extend_claim($1, $2, $3)', [queue, spawned.run_id, value]), {
        message: /extend_by must be > 0/,
      });
    }
  });

  test('extend_claim reports unknown, sleeping, failed and cancelled runs', async () => {
    const queue = await db.createQueue();
    const extend = (runId: string) => db.query('select absurd.extend_claim($1, $2, 30)', [queue, runId]);
    await rejectsWith(extend('00000000-0000-7000-8000-0000000000aa'), { message: /not found/i });
    const sleeping = await spawnTask(db, queue, 'sleeping', {}, { max_attempts: 1 });
    await claimOne(db, queue);
    await db.query('select absurd.schedule_run($1, $2, $3)', [queue, sleeping.run_id, addSeconds(start, 60)]);
    await rejectsWith(extend(sleeping.run_id), { message: /not currently running/i });
    const failed = await spawnTask(db, queue, 'failed', {}, { max_attempts: 1 });
    await claimOne(db, queue);
    await db.query('select absurd.fail_run($1, $2, $3)', [queue, failed.run_id, '{"message":"x"}']);
    await rejectsWith(extend(failed.run_id), { code: 'AB002' });
    const cancelled = await spawnTask(db, queue, 'cancelled');
    await claimOne(db, queue);
    await db.query('select absurd.cancel_task($1, $2)', [queue, cancelled.task_id]);
    await rejectsWith(extend(cancelled.run_id), { code: 'AB001' });
  });

  test('the SDK fails a run whose heartbeat asks for 0 seconds, with the reason stored', async () => {
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    absurd.registerTask({ name: 'bad-heartbeat' }, async (_params, context) => {
      await context.heartbeat(0);
      return 'unreachable';
    });
    const { taskID, runID } = await absurd.spawn('bad-heartbeat', {}, { maxAttempts: 1 });
    await absurd.workBatch('w', 30, 1);
    assert.equal((await taskRow(db, queue, taskID)).state, 'failed');
    assert.match((await runRow(db, queue, runID)).failure_reason.message, /extend_by must be > 0/);
  });

  test('an SDK handler whose lease was swept stops quietly at its next checkpoint without touching the failed run', async () => {
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    let stepsRun = 0;
    absurd.registerTask({ name: 'overrun' }, async (_params, context) => {
      await context.step('first', async () => ++stepsRun);
      // Meanwhile the lease expires and another worker's claim sweeps this run.
      await db.setFakeNow(addSeconds(start, 120));
      await claimTasks(db, queue, { worker: 'sweeper', qty: 1 });
      await context.step('second', async () => ++stepsRun);
      return 'never completes';
    });
    const { taskID, runID } = await absurd.spawn('overrun', {}, { maxAttempts: 2 });
    await absurd.workBatch('w', 30, 1);
    const run = await runRow(db, queue, runID);
    assert.equal(run.state, 'failed');
    assert.equal(run.failure_reason.name, '$ClaimTimeout', 'the SDK did not overwrite the sweep reason');
    const runs = await runsOf(db, queue, taskID);
    assert.deepEqual(runs.map((row) => [row.attempt, row.state]), [[1, 'failed'], [2, 'running']]);
    assert.equal(await checkpointOf(queue, taskID, 'second'), undefined);
  });
});
