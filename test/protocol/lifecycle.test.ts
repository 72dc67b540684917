// Task and run lifecycle: spawn, claim, complete, schedule, illegal transitions and task results,
// through raw calls and through the unmodified absurd-sdk client.
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
  spawnTask,
  taskResult,
  taskRow,
  useProtocolDatabase,
  writeCheckpoint,
} from '../support/protocol-helpers.ts';

const start = new Date('2031-03-04T05:06:07.000Z');

describe('protocol: task and run lifecycle', () => {
  const db = useProtocolDatabase({ fakeNow: start });

  test('spawn stores NULL params as JSON null, starts at attempt 1 and records its run', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'nothing', undefined, { max_attempts: 3 });
    assert.equal(spawned.attempt, 1);
    assert.equal(spawned.created, true);
    const task = await taskRow(db, queue, spawned.task_id);
    assert.equal(task.state, 'pending');
    assert.equal(task.attempts, 1);
    assert.equal(task.params, null);
    assert.equal(task.last_attempt_run, spawned.run_id);
    assert.deepEqual(task.enqueue_at, start);
    assert.equal(task.first_started_at, null);
    const { rows } = await db.query(`select jsonb_typeof(params) as kind from absurd."t_${queue}" where task_id = $1`, [spawned.task_id]);
    assert.equal(rows[0].kind, 'null', 'params is JSON null, not SQL NULL');
    const run = await runRow(db, queue, spawned.run_id);
    assert.equal(run.state, 'pending');
    assert.equal(run.attempt, 1);
    assert.deepEqual(run.available_at, start);
    const claimed = await claimOne(db, queue);
    assert.equal(claimed.params, null);
    assert.equal(claimed.task_name, 'nothing');
    assert.equal(claimed.max_attempts, 3);
  });

  test('spawn rejects a blank task name, max_attempts 0 and malformed options', async () => {
    const queue = await db.createQueue();
    await rejectsWith(spawnTask(db, queue, '   '), { message: /task_name must be a non-blank string/ });
    await rejectsWith(spawnTask(db, queue, 'x', {}, { max_attempts: 0 }), { message: /max_attempts must be an integer >= 1/ });
    await rejectsWith(spawnTask(db, queue, 'x', {}, { max_attempts: 2.5 }), { message: /max_attempts must be an integer/ });
    await rejectsWith(spawnTask(db, queue, 'x', {}, { cancellation: { max_delay: 'soon' } }), {
      message: /cancellation\.max_delay must be a number of seconds/,
    });
    await rejectsWith(spawnTask(db, queue, 'x', {}, { retry_strategy: 'fast' }), { message: /retry_strategy must be an object/ });
    const { rows } = await db.query(`select count(*)::int as count from absurd."t_${queue}"`);
    assert.equal(rows[0].count, 0, 'rejected spawns leave nothing behind');
  });

  test('claim sets the lease, worker and start times and returns the task fields', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'fields', { a: 1 }, {
      max_attempts: 4,
      headers: { trace: 'abc' },
      retry_strategy: { kind: 'fixed', base_seconds: 5 },
    });
    const [claimed] = await claimTasks(db, queue, { worker: 'w-7', timeout: 45 });
    assert.ok(claimed);
    assert.deepEqual(
      { ...claimed, run_id: undefined, task_id: undefined },
      {
        run_id: undefined,
        task_id: undefined,
        attempt: 1,
        task_name: 'fields',
        params: { a: 1 },
        retry_strategy: { kind: 'fixed', base_seconds: 5 },
        max_attempts: 4,
        headers: { trace: 'abc' },
        wake_event: null,
        event_payload: null,
      },
    );
    assert.equal(claimed.run_id, spawned.run_id);
    const run = await runRow(db, queue, spawned.run_id);
    assert.equal(run.state, 'running');
    assert.equal(run.claimed_by, 'w-7');
    assert.deepEqual(run.claim_expires_at, addSeconds(start, 45));
    assert.deepEqual(run.started_at, start);
    const task = await taskRow(db, queue, spawned.task_id);
    assert.equal(task.state, 'running');
    assert.deepEqual(task.first_started_at, start);
    assert.equal(task.last_attempt_run, spawned.run_id);
  });

  test('claim normalises its arguments: NULL timeout is 30 s, qty 0 or NULL is 1, blank worker is "worker"', async () => {
    const queue = await db.createQueue();
    for (let index = 0; index < 4; index++) await spawnTask(db, queue, 'n', { index });
    const [first] = await claimTasks(db, queue, { worker: '  ', timeout: null, qty: 0 });
    assert.ok(first);
    const run = await runRow(db, queue, first.run_id);
    assert.equal(run.claimed_by, 'worker');
    assert.deepEqual(run.claim_expires_at, addSeconds(start, 30));
    assert.equal((await claimTasks(db, queue, { qty: null })).length, 1);
    assert.equal((await claimTasks(db, queue, { qty: -3 })).length, 1);
    const [negative] = await claimTasks(db, queue, { timeout: -5 });
    assert.ok(negative);
    assert.equal((await runRow(db, queue, negative.run_id)).claim_expires_at, null, 'a negative timeout means no lease');
    assert.deepEqual(await claimTasks(db, queue), [], 'nothing due gives no rows');
  });

  test('a batch claim returns distinct runs and skips runs that are not due yet', async () => {
    const queue = await db.createQueue();
    const spawned = [];
    for (let index = 0; index < 5; index++) {
      await db.setFakeNow(addSeconds(start, index));
      spawned.push(await spawnTask(db, queue, 'batch', { index }));
    }
    await db.setFakeNow(addSeconds(start, 20));
    const notYetDue = await spawnTask(db, queue, 'future', {});
    await db.setFakeNow(addSeconds(start, 10));
    const first = await claimOne(db, queue);
    assert.equal(first.run_id, spawned[0]!.run_id, 'the earliest run is claimed first');
    const rows = await claimTasks(db, queue, { qty: 10 });
    const ids = rows.map((row) => row.run_id);
    assert.equal(new Set(ids).size, ids.length, 'distinct runs');
    assert.deepEqual(new Set(ids), new Set(spawned.slice(1).map((row) => row.run_id)));
    assert.ok(!ids.includes(notYetDue.run_id));
  });

  test('claim with timeout 0 gives no lease: heartbeats fail, checkpoints do not create one, it never expires', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue, { timeout: 0 });
    assert.equal((await runRow(db, queue, claimed.run_id)).claim_expires_at, null);
    await rejectsWith(db.query('select absurd.extend_claim($1, $2, 30)', [queue, claimed.run_id]), {
      message: /without a lease/,
    });
    await writeCheckpoint(db, queue, spawned.task_id, 'step', { ok: true }, claimed.run_id, 120);
    assert.equal((await runRow(db, queue, claimed.run_id)).claim_expires_at, null);
    await db.setFakeNow(addSeconds(start, 365 * 24 * 3600));
    assert.deepEqual(await claimTasks(db, queue, { worker: 'other' }), []);
    assert.equal((await runRow(db, queue, claimed.run_id)).state, 'running');
    await completeRun(db, queue, claimed.run_id, { done: true });
    assert.equal((await taskRow(db, queue, spawned.task_id)).state, 'completed');
  });

  test('complete_run finishes run and task and keeps the claim fields', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    await claimOne(db, queue, { worker: 'finisher', timeout: 60 });
    await db.setFakeNow(addSeconds(start, 3));
    await completeRun(db, queue, spawned.run_id, { answer: 42 });
    const run = await runRow(db, queue, spawned.run_id);
    assert.equal(run.state, 'completed');
    assert.deepEqual(run.result, { answer: 42 });
    assert.deepEqual(run.completed_at, addSeconds(start, 3));
    assert.equal(run.claimed_by, 'finisher');
    assert.deepEqual(run.claim_expires_at, addSeconds(start, 60));
    const task = await taskRow(db, queue, spawned.task_id);
    assert.equal(task.state, 'completed');
    assert.deepEqual(task.completed_payload, { answer: 42 });
    assert.equal(task.last_attempt_run, spawned.run_id);
  });

  test('illegal transitions raise the right errors: AB001 only for cancelled, AB002 only for failed', async () => {
    const queue = await db.createQueue();
    const run = (id: string) => [queue, id];
    const pending = await spawnTask(db, queue, 'pending');
    const completed = await spawnTask(db, queue, 'completed');
    const cancelled = await spawnTask(db, queue, 'cancelled');
    const failed = await spawnTask(db, queue, 'failed', {}, { max_attempts: 1 });
    await db.query('select absurd.cancel_task($1, $2)', [queue, cancelled.task_id]);
    for (const spawned of [completed, failed]) {
      await db.query(`update absurd."r_${queue}" set available_at = available_at - interval '1 hour' where run_id = $1`, [spawned.run_id]);
    }
    const claimed = await claimTasks(db, queue, { qty: 2 });
    assert.deepEqual(new Set(claimed.map((row) => row.run_id)), new Set([completed.run_id, failed.run_id]));
    await completeRun(db, queue, completed.run_id);
    await failRun(db, queue, failed.run_id);
    assert.equal((await taskRow(db, queue, failed.task_id)).state, 'failed');

    const complete = (id: string) => db.query('select absurd.complete_run($1, $2, $3)', [...run(id), 'null']);
    const fail = (id: string) => db.query('select absurd.fail_run($1, $2, $3, null)', [...run(id), '{"message":"x"}']);
    const schedule = (id: string) => db.query('select absurd.schedule_run($1, $2, absurd.current_time())', run(id));

    await rejectsWith(complete(cancelled.run_id), { code: 'AB001', message: /cancelled/ });
    await rejectsWith(fail(cancelled.run_id), { code: 'AB001', message: /cancelled/ });
    await rejectsWith(complete(failed.run_id), { code: 'AB002' });
    await rejectsWith(fail(failed.run_id), { code: 'AB002' });
    await rejectsWith(complete(pending.run_id), { code: 'P0001', message: /not currently running/ });
    await rejectsWith(fail(pending.run_id), { code: 'P0001', message: /not currently running/ });
    await rejectsWith(complete(completed.run_id), { code: 'P0001', message: /not currently running/ });
    await rejectsWith(fail(completed.run_id), { code: 'P0001', message: /not currently running/ });
    for (const spawned of [pending, completed, cancelled, failed]) {
      await rejectsWith(schedule(spawned.run_id), { code: 'P0001', message: /not currently running/ });
    }
    const unknown = '00000000-0000-7000-8000-000000000000';
    await rejectsWith(complete(unknown), { code: 'P0001', message: /not found/ });
    await rejectsWith(fail(unknown), { code: 'P0001', message: /not found/ });
    await rejectsWith(schedule(unknown), { code: 'P0001', message: /not found/ });
  });

  test('schedule_run puts a running run to sleep; a past wake time makes it due at once', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    await claimOne(db, queue);
    await db.query('select absurd.schedule_run($1, $2, $3)', [queue, spawned.run_id, addSeconds(start, 600)]);
    let run = await runRow(db, queue, spawned.run_id);
    assert.equal(run.state, 'sleeping');
    assert.equal(run.claimed_by, null);
    assert.equal(run.claim_expires_at, null);
    assert.deepEqual(run.available_at, addSeconds(start, 600));
    assert.equal((await taskRow(db, queue, spawned.task_id)).state, 'sleeping');
    assert.deepEqual(await claimTasks(db, queue), []);
    await db.setFakeNow(addSeconds(start, 599));
    assert.deepEqual(await claimTasks(db, queue), []);
    assert.equal((await taskRow(db, queue, spawned.task_id)).state, 'sleeping', 'a due sleeper stays sleeping until claimed');
    await db.setFakeNow(addSeconds(start, 600));
    const again = await claimOne(db, queue);
    assert.equal(again.run_id, spawned.run_id, 'sleeping reuses the run');
    assert.equal(again.attempt, 1);
    run = await runRow(db, queue, spawned.run_id);
    assert.deepEqual(run.started_at, addSeconds(start, 600), 'started_at follows the latest claim');
    assert.deepEqual((await taskRow(db, queue, spawned.task_id)).first_started_at, start, 'first_started_at is kept');

    await db.query('select absurd.schedule_run($1, $2, $3)', [queue, spawned.run_id, addSeconds(start, -30)]);
    assert.equal((await claimOne(db, queue)).run_id, spawned.run_id);
  });

  test('fail_run on a sleeping run is allowed and schedules the retry', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'sleepy', {}, { max_attempts: 3 });
    await claimOne(db, queue);
    await db.query('select absurd.schedule_run($1, $2, $3)', [queue, spawned.run_id, addSeconds(start, 3600)]);
    await failRun(db, queue, spawned.run_id, { message: 'gave up waiting' });
    const runs = await db.query(`select attempt, state from absurd."r_${queue}" where task_id = $1 order by attempt`, [spawned.task_id]);
    assert.deepEqual(runs.rows, [
      { attempt: 1, state: 'failed' },
      { attempt: 2, state: 'pending' },
    ]);
    assert.equal((await taskRow(db, queue, spawned.task_id)).attempts, 2);
  });

  test('get_task_result reports each state: unknown, pending, running, sleeping, completed, failed, cancelled', async () => {
    const queue = await db.createQueue();
    assert.equal(await taskResult(db, queue, '00000000-0000-7000-8000-000000000001'), undefined);
    const task = await spawnTask(db, queue, 'r', {}, { max_attempts: 1 });
    assert.deepEqual(await taskResult(db, queue, task.task_id), { task_id: task.task_id, state: 'pending', result: null, failure_reason: null });
    await claimOne(db, queue);
    assert.equal((await taskResult(db, queue, task.task_id))?.state, 'running');
    await db.query('select absurd.schedule_run($1, $2, $3)', [queue, task.run_id, addSeconds(start, 10)]);
    assert.equal((await taskResult(db, queue, task.task_id))?.state, 'sleeping');
    await db.setFakeNow(addSeconds(start, 10));
    await claimOne(db, queue);
    await completeRun(db, queue, task.run_id, { ok: 1 });
    assert.deepEqual(await taskResult(db, queue, task.task_id), { task_id: task.task_id, state: 'completed', result: { ok: 1 }, failure_reason: null });

    const failing = await spawnTask(db, queue, 'f', {}, { max_attempts: 1 });
    await claimOne(db, queue);
    await failRun(db, queue, failing.run_id, { name: 'Error', message: 'nope' });
    assert.deepEqual(await taskResult(db, queue, failing.task_id), {
      task_id: failing.task_id,
      state: 'failed',
      result: null,
      failure_reason: { name: 'Error', message: 'nope' },
    });

    const cancelled = await spawnTask(db, queue, 'c');
    await db.query('select absurd.cancel_task($1, $2)', [queue, cancelled.task_id]);
    assert.deepEqual(await taskResult(db, queue, cancelled.task_id), { task_id: cancelled.task_id, state: 'cancelled', result: null, failure_reason: null });
    await rejectsWith(taskResult(db, '', task.task_id), { message: /queue name must not be empty/ });
  });

  test('the SDK runs a task end to end: steps replay after a failure instead of running again', async () => {
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    const calls: string[] = [];
    absurd.registerTask({ name: 'pipeline' }, async (params: { x: number }, context) => {
      const doubled = await context.step('double', async () => {
        calls.push('double');
        return params.x * 2;
      });
      const nothing = await context.step('nothing', async () => {
        calls.push('nothing');
        return undefined;
      });
      const added = await context.step('add', async () => {
        calls.push('add');
        if (calls.filter((call) => call === 'add').length === 1) throw new Error('transient');
        return doubled + 1;
      });
      return { doubled, added, nothing: nothing ?? 'undefined' };
    });
    const { taskID } = await absurd.spawn('pipeline', { x: 20 }, { retryStrategy: { kind: 'none' } });
    await absurd.workBatch('sdk-worker', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'pending' });
    await absurd.workBatch('sdk-worker', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: { doubled: 40, added: 41, nothing: 'undefined' } });
    assert.deepEqual(calls, ['double', 'nothing', 'add', 'add'], 'completed steps (including one that returned undefined) are not repeated');
    const { rows } = await db.query(`select checkpoint_name, state from absurd."c_${queue}" order by checkpoint_name`);
    assert.deepEqual(rows, [
      { checkpoint_name: 'add', state: 41 },
      { checkpoint_name: 'double', state: 40 },
      { checkpoint_name: 'nothing', state: null },
    ]);
  });

  test('the SDK defers a claimed task it has no handler for without using up an attempt', async () => {
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    const spawned = await absurd.spawn('unregistered', { a: 1 }, { queue });
    await absurd.workBatch('sdk-worker', 60, 1);
    const run = await runRow(db, queue, spawned.runID);
    assert.equal(run.state, 'sleeping');
    const deferredBy = (run.available_at.getTime() - start.getTime()) / 1000;
    assert.ok(deferredBy >= 15 && deferredBy <= 30, `deferred by ${deferredBy}s`);
    assert.equal((await taskRow(db, queue, spawned.taskID)).attempts, 1);
  });
});
