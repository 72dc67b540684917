// Retry arithmetic inside fail_run (none/fixed/exponential, explicit retry_at, max_attempts), final
// failure bookkeeping, and retry_task in place and as a new task.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addSeconds,
  claimOne,
  claimTasks,
  failRun,
  rejectsWith,
  runRow,
  runsOf,
  spawnTask,
  taskResult,
  taskRow,
  useProtocolDatabase,
  writeCheckpoint,
} from '../support/protocol-helpers.ts';

const start = new Date('2032-06-01T12:00:00.000Z');

describe('protocol: retries', () => {
  const db = useProtocolDatabase({ fakeNow: start });

  /** Fails attempt after attempt at the moment each retry becomes due; returns the delays in seconds. */
  async function retryDelays(strategy: unknown, failures: number): Promise<number[]> {
    await db.setFakeNow(start);
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'flaky', {}, { max_attempts: failures + 1, retry_strategy: strategy });
    let now = start;
    let runId = (await claimOne(db, queue)).run_id;
    const delays: number[] = [];
    for (let failure = 0; failure < failures; failure++) {
      await failRun(db, queue, runId);
      const task = await taskRow(db, queue, spawned.task_id);
      const retry = await runRow(db, queue, task.last_attempt_run);
      assert.equal(retry.attempt, failure + 2);
      const delay = (retry.available_at.getTime() - now.getTime()) / 1000;
      delays.push(delay);
      assert.equal(retry.state, delay > 0 ? 'sleeping' : 'pending');
      assert.equal(task.state, retry.state, 'the task takes the retry run state');
      assert.equal(task.attempts, failure + 2);
      if (delay > 0) assert.deepEqual(await claimTasks(db, queue), [], 'a delayed retry is not due yet');
      now = retry.available_at;
      await db.setFakeNow(now);
      runId = (await claimOne(db, queue)).run_id;
      assert.equal(runId, retry.run_id);
    }
    return delays;
  }

  test('no strategy, kind "none" and unknown kinds retry at once (none does not mean "never")', async () => {
    assert.deepEqual(await retryDelays(null, 2), [0, 0]);
    assert.deepEqual(await retryDelays({ kind: 'none' }, 2), [0, 0]);
    assert.deepEqual(await retryDelays({ kind: 'linear', base_seconds: 9 }, 1), [0]);
  });

  test('fixed waits base_seconds (default 60) and ignores max_seconds', async () => {
    assert.deepEqual(await retryDelays({ kind: 'fixed' }, 2), [60, 60]);
    assert.deepEqual(await retryDelays({ kind: 'fixed', base_seconds: 5, max_seconds: 1 }, 2), [5, 5]);
  });

  test('exponential waits base * factor^(attempt - 1), defaults 30 and 2, capped at max_seconds', async () => {
    assert.deepEqual(await retryDelays({ kind: 'exponential' }, 3), [30, 60, 120]);
    assert.deepEqual(await retryDelays({ kind: 'exponential', base_seconds: 1.5, factor: 3, max_seconds: 20 }, 5), [1.5, 4.5, 13.5, 20, 20]);
    assert.deepEqual(await retryDelays({ kind: 'exponential', base_seconds: 40, factor: 3, max_seconds: 90 }, 2), [40, 90]);
  });

  test('an explicit retry_at replaces the computed time and a past one is clamped to now', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'explicit', {}, { max_attempts: 5, retry_strategy: { kind: 'fixed', base_seconds: 999 } });
    const first = await claimOne(db, queue);
    await failRun(db, queue, first.run_id, { message: 'later' }, addSeconds(start, 7));
    let runs = await runsOf(db, queue, spawned.task_id);
    assert.equal(runs[1]!.state, 'sleeping');
    assert.deepEqual(runs[1]!.available_at, addSeconds(start, 7));
    await db.setFakeNow(addSeconds(start, 7));
    const second = await claimOne(db, queue);
    await failRun(db, queue, second.run_id, { message: 'past' }, addSeconds(start, -3600));
    runs = await runsOf(db, queue, spawned.task_id);
    assert.equal(runs[2]!.state, 'pending');
    assert.deepEqual(runs[2]!.available_at, addSeconds(start, 7), 'clamped to now');
  });

  test('fail_run marks the run failed, keeps its claim fields and clears wake_event', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'keep', {}, { max_attempts: 2 });
    await claimOne(db, queue, { worker: 'w-fail', timeout: 90 });
    await db.setFakeNow(addSeconds(start, 4));
    await failRun(db, queue, spawned.run_id, { name: 'TypeError', message: 'bad', stack: 'at x' });
    const run = await runRow(db, queue, spawned.run_id);
    assert.equal(run.state, 'failed');
    assert.deepEqual(run.failed_at, addSeconds(start, 4));
    assert.deepEqual(run.failure_reason, { name: 'TypeError', message: 'bad', stack: 'at x' });
    assert.equal(run.claimed_by, 'w-fail');
    assert.deepEqual(run.claim_expires_at, addSeconds(start, 90));
    assert.equal(run.wake_event, null);
  });

  test('max_attempts null means unlimited retries', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'forever', {}, { max_attempts: null });
    for (let attempt = 1; attempt <= 8; attempt++) {
      const claimed = await claimOne(db, queue);
      assert.equal(claimed.attempt, attempt);
      await failRun(db, queue, claimed.run_id);
    }
    const task = await taskRow(db, queue, spawned.task_id);
    assert.equal(task.state, 'pending');
    assert.equal(task.attempts, 9);
    assert.equal(task.max_attempts, null);
  });

  test('the final failure fails the task with attempts = n and the last run and reason', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'doomed', {}, { max_attempts: 3 });
    let last = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      const claimed = await claimOne(db, queue);
      last = claimed.run_id;
      await failRun(db, queue, claimed.run_id, { name: 'Error', message: `failure ${attempt}` });
    }
    const task = await taskRow(db, queue, spawned.task_id);
    assert.equal(task.state, 'failed');
    assert.equal(task.attempts, 3);
    assert.equal(task.last_attempt_run, last);
    assert.equal((await runsOf(db, queue, spawned.task_id)).length, 3, 'no fourth run');
    assert.deepEqual((await taskResult(db, queue, spawned.task_id))?.failure_reason, { name: 'Error', message: 'failure 3' });
    assert.deepEqual(await claimTasks(db, queue), []);
  });

  test('retry_task in place: limit + 1 by default, checkpoints kept, cancelled_at reset', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'again', { p: 1 }, { max_attempts: 1 });
    const claimed = await claimOne(db, queue);
    await writeCheckpoint(db, queue, spawned.task_id, 'done-step', { kept: true }, claimed.run_id);
    await failRun(db, queue, claimed.run_id);
    await db.query(`update absurd."t_${queue}" set cancelled_at = $2 where task_id = $1`, [spawned.task_id, start]);
    await db.setFakeNow(addSeconds(start, 100));
    const { rows } = await db.query('select * from absurd.retry_task($1, $2, $3)', [queue, spawned.task_id, '{}']);
    const retried = rows[0];
    assert.equal(retried.task_id, spawned.task_id);
    assert.equal(retried.attempt, 2);
    assert.equal(retried.created, false);
    const task = await taskRow(db, queue, spawned.task_id);
    assert.deepEqual(
      { state: task.state, attempts: task.attempts, max_attempts: task.max_attempts, last: task.last_attempt_run, cancelled_at: task.cancelled_at },
      { state: 'pending', attempts: 2, max_attempts: 2, last: retried.run_id, cancelled_at: null },
    );
    const run = await runRow(db, queue, retried.run_id);
    assert.deepEqual({ state: run.state, attempt: run.attempt, available_at: run.available_at }, { state: 'pending', attempt: 2, available_at: addSeconds(start, 100) });
    const next = await claimOne(db, queue);
    assert.equal(next.run_id, retried.run_id);
    const states = await db.query('select checkpoint_name, state from absurd.get_task_checkpoint_states($1, $2, $3)', [queue, spawned.task_id, next.run_id]);
    assert.deepEqual(states.rows, [{ checkpoint_name: 'done-step', state: { kept: true } }], 'the new attempt sees the old checkpoints');
  });

  test('retry_task in place with an explicit limit must exceed the current attempts', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'limit', {}, { max_attempts: 2 });
    for (let attempt = 0; attempt < 2; attempt++) await failRun(db, queue, (await claimOne(db, queue)).run_id);
    await rejectsWith(db.query('select * from absurd.retry_task($1, $2, $3)', [queue, spawned.task_id, '{"max_attempts": 2}']), {
      message: /must be greater than current attempts/,
    });
    await rejectsWith(db.query('select * from absurd.retry_task($1, $2, $3)', [queue, spawned.task_id, '{"max_attempts": 0}']), {
      message: /max_attempts must be an integer >= 1/,
    });
    const { rows } = await db.query('select * from absurd.retry_task($1, $2, $3)', [queue, spawned.task_id, '{"max_attempts": 5}']);
    assert.equal(rows[0].attempt, 3);
    assert.equal((await taskRow(db, queue, spawned.task_id)).max_attempts, 5);
  });

  test('retry_task with spawn_new creates a fresh task with the same inputs and leaves the old one failed', async () => {
    const queue = await db.createQueue();
    const options = {
      max_attempts: 1,
      headers: { h: 'v' },
      retry_strategy: { kind: 'fixed', base_seconds: 3 },
      cancellation: { max_duration: 600 },
      idempotency_key: 'original-key',
    };
    const spawned = await spawnTask(db, queue, 'fresh', { input: 7 }, options);
    const claimed = await claimOne(db, queue);
    await writeCheckpoint(db, queue, spawned.task_id, 'step', 1, claimed.run_id);
    await failRun(db, queue, claimed.run_id);
    const { rows } = await db.query('select * from absurd.retry_task($1, $2, $3)', [queue, spawned.task_id, '{"spawn_new": true, "max_attempts": 4}']);
    const fresh = rows[0];
    assert.notEqual(fresh.task_id, spawned.task_id);
    assert.equal(fresh.attempt, 1);
    assert.equal(fresh.created, true);
    const task = await taskRow(db, queue, fresh.task_id);
    assert.deepEqual(
      { name: task.task_name, params: task.params, headers: task.headers, retry: task.retry_strategy, cancellation: task.cancellation, max: task.max_attempts, key: task.idempotency_key },
      { name: 'fresh', params: { input: 7 }, headers: { h: 'v' }, retry: { kind: 'fixed', base_seconds: 3 }, cancellation: { max_duration: 600 }, max: 4, key: null },
    );
    const copied = await db.query(`select count(*)::int as count from absurd."c_${queue}" where task_id = $1`, [fresh.task_id]);
    assert.equal(copied.rows[0].count, 0, 'checkpoints are not copied');
    assert.equal((await taskRow(db, queue, spawned.task_id)).state, 'failed');
    const second = await db.query('select * from absurd.retry_task($1, $2, $3)', [queue, spawned.task_id, '{"spawn_new": true}']);
    assert.equal((await taskRow(db, queue, second.rows[0].task_id)).max_attempts, 1, "defaults to the original's limit");
  });

  test('retry_task rejects tasks that are not failed, and unknown tasks', async () => {
    const queue = await db.createQueue();
    const pending = await spawnTask(db, queue, 'busy');
    await rejectsWith(db.query('select * from absurd.retry_task($1, $2, $3)', [queue, pending.task_id, '{}']), {
      message: /is pending, not failed/,
    });
    await rejectsWith(db.query('select * from absurd.retry_task($1, $2)', [queue, '00000000-0000-7000-8000-000000000009']), {
      message: /not found/,
    });
  });

  test('the SDK retries a failing handler and retryTask revives a task that ran out of attempts', async () => {
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    let calls = 0;
    absurd.registerTask({ name: 'stubborn' }, async (_params, context) => {
      const value = await context.step('once', async () => 'computed');
      calls++;
      if (calls < 4) throw new Error(`attempt ${calls} failed`);
      return value;
    });
    const { taskID } = await absurd.spawn('stubborn', null, { maxAttempts: 2, retryStrategy: { kind: 'none' } });
    await absurd.workBatch('w', 60, 1);
    await absurd.workBatch('w', 60, 1);
    const failed = await absurd.fetchTaskResult(taskID);
    assert.ok(failed?.state === 'failed');
    assert.equal((failed.failure as { message: string }).message, 'attempt 2 failed');
    const retried = await absurd.retryTask(taskID, { maxAttempts: 4 });
    assert.deepEqual({ taskID: retried.taskID, attempt: retried.attempt, created: retried.created }, { taskID, attempt: 3, created: false });
    await absurd.workBatch('w', 60, 1);
    await absurd.workBatch('w', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: 'computed' });
  });
});
