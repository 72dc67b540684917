// Events, waits and sleeping: emit before/after await, first emit wins, timeouts, scoping per
// queue, and the SDK's awaitEvent/emitEvent/sleepFor on top.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimeoutError } from 'absurd-sdk';
import {
  addSeconds,
  claimOne,
  claimTasks,
  rejectsWith,
  runRow,
  spawnTask,
  taskRow,
  useProtocolDatabase,
} from '../support/protocol-helpers.ts';

const start = new Date('2035-05-05T05:00:00.000Z');

describe('protocol: events and sleeping', () => {
  const db = useProtocolDatabase({ fakeNow: start });

  async function awaitEvent(queue: string, taskId: string, runId: string, step: string, event: string, timeout: number | null = null) {
    const { rows } = await db.query('select should_suspend, payload from absurd.await_event($1, $2, $3, $4, $5, $6)', [
      queue,
      taskId,
      runId,
      step,
      event,
      timeout,
    ]);
    assert.equal(rows.length, 1);
    return rows[0] as { should_suspend: boolean; payload: unknown };
  }
  const emit = (queue: string, event: string, payload: unknown) =>
    db.query('select absurd.emit_event($1, $2, $3)', [queue, event, payload === undefined ? null : JSON.stringify(payload)]);
  const checkpoint = async (queue: string, taskId: string, step: string) =>
    (await db.query('select * from absurd.get_task_checkpoint_state($1, $2, $3)', [queue, taskId, step])).rows[0];
  const waits = async (queue: string) => (await db.query(`select * from absurd."w_${queue}" order by created_at`)).rows;
  const event = async (queue: string, name: string) =>
    (await db.query(`select * from absurd."e_${queue}" where event_name = $1`, [name])).rows[0];

  test('an event emitted before the await is returned at once and checkpointed, without suspending', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    await emit(queue, 'ready', { go: true });
    assert.deepEqual(await awaitEvent(queue, spawned.task_id, claimed.run_id, '$awaitEvent:ready', 'ready'), { should_suspend: false, payload: { go: true } });
    assert.deepEqual((await checkpoint(queue, spawned.task_id, '$awaitEvent:ready')).state, { go: true });
    assert.equal((await runRow(db, queue, claimed.run_id)).state, 'running');
    assert.deepEqual(await waits(queue), []);
  });

  test('await then emit: the run is woken with the payload, checkpointed under the waiting step', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue, { worker: 'waiter', timeout: 60 });
    assert.deepEqual(await awaitEvent(queue, spawned.task_id, claimed.run_id, 'wait-step', 'signal'), { should_suspend: true, payload: null });
    let run = await runRow(db, queue, claimed.run_id);
    assert.deepEqual(
      { state: run.state, wake: run.wake_event, by: run.claimed_by, expires: run.claim_expires_at },
      { state: 'sleeping', wake: 'signal', by: null, expires: null },
    );
    const { rows: infinite } = await db.query(`select available_at = 'infinity' as forever from absurd."r_${queue}" where run_id = $1`, [claimed.run_id]);
    assert.equal(infinite[0].forever, true, 'a wait without timeout is available at infinity');
    assert.equal((await taskRow(db, queue, spawned.task_id)).state, 'sleeping');
    assert.equal((await waits(queue)).length, 1);
    assert.equal((await event(queue, 'signal')).payload, null, 'the waiter left a placeholder event row');
    assert.deepEqual(await claimTasks(db, queue), [], 'a wait without timeout is never due on its own');

    await db.setFakeNow(addSeconds(start, 5));
    await emit(queue, 'signal', { n: 1 });
    run = await runRow(db, queue, claimed.run_id);
    assert.deepEqual(
      { state: run.state, wake: run.wake_event, payload: run.event_payload, available: run.available_at },
      { state: 'pending', wake: null, payload: { n: 1 }, available: addSeconds(start, 5) },
    );
    assert.equal((await taskRow(db, queue, spawned.task_id)).state, 'pending');
    assert.deepEqual(await waits(queue), []);
    assert.deepEqual((await checkpoint(queue, spawned.task_id, 'wait-step')).state, { n: 1 });
    const resumed = await claimOne(db, queue);
    assert.equal(resumed.run_id, claimed.run_id);
    assert.equal(resumed.wake_event, null);
    assert.deepEqual(resumed.event_payload, { n: 1 });
    assert.deepEqual(await awaitEvent(queue, spawned.task_id, claimed.run_id, 'wait-step', 'signal'), { should_suspend: false, payload: { n: 1 } });
    assert.deepEqual(await awaitEvent(queue, spawned.task_id, claimed.run_id, 'next-step', 'signal'), { should_suspend: false, payload: { n: 1 } });
    assert.equal((await runRow(db, queue, claimed.run_id)).event_payload, null, 'the hand-over is cleared by the next await');
  });

  test('the first emit wins; a NULL payload is stored as JSON null and still wakes waiters', async () => {
    const queue = await db.createQueue();
    await emit(queue, 'once', 'first');
    const firstRow = await event(queue, 'once');
    await db.setFakeNow(addSeconds(start, 9));
    await emit(queue, 'once', 'second');
    const secondRow = await event(queue, 'once');
    assert.equal(secondRow.payload, 'first');
    assert.deepEqual(secondRow.emitted_at, firstRow.emitted_at);

    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    await awaitEvent(queue, spawned.task_id, claimed.run_id, 'step', 'nothing');
    await emit(queue, 'nothing', undefined);
    const { rows } = await db.query(`select jsonb_typeof(payload) as kind from absurd."e_${queue}" where event_name = 'nothing'`);
    assert.equal(rows[0].kind, 'null');
    const resumed = await claimOne(db, queue);
    assert.equal(resumed.run_id, claimed.run_id);
    assert.equal(resumed.event_payload, null);
    assert.equal((await checkpoint(queue, spawned.task_id, 'step')).state, null);
  });

  test('one emit wakes every waiter on that event in its queue, and none in another queue', async () => {
    const queue = await db.createQueue();
    const otherQueue = await db.createQueue();
    const waiters = [];
    for (let index = 0; index < 3; index++) {
      const spawned = await spawnTask(db, queue, 'w', { index });
      const claimed = await claimOne(db, queue);
      await awaitEvent(queue, spawned.task_id, claimed.run_id, `step-${index}`, 'broadcast');
      waiters.push(claimed.run_id);
    }
    const outsider = await spawnTask(db, otherQueue);
    const outsiderRun = await claimOne(db, otherQueue);
    await awaitEvent(otherQueue, outsider.task_id, outsiderRun.run_id, 'step', 'broadcast');
    await emit(queue, 'broadcast', 'hello');
    for (const runId of waiters) assert.equal((await runRow(db, queue, runId)).state, 'pending');
    assert.equal((await runRow(db, otherQueue, outsiderRun.run_id)).state, 'sleeping');
    assert.equal((await claimTasks(db, queue, { qty: 10 })).length, 3);
  });

  test('a timed-out wait comes back with wake_event set; awaiting again returns null once, then waits anew', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    assert.equal((await awaitEvent(queue, spawned.task_id, claimed.run_id, 'wait', 'late', 30)).should_suspend, true);
    assert.deepEqual((await waits(queue))[0].timeout_at, addSeconds(start, 30));
    assert.deepEqual((await runRow(db, queue, claimed.run_id)).available_at, addSeconds(start, 30));
    await db.setFakeNow(addSeconds(start, 29));
    assert.deepEqual(await claimTasks(db, queue), []);
    await db.setFakeNow(addSeconds(start, 30));
    const resumed = await claimOne(db, queue);
    assert.equal(resumed.wake_event, 'late');
    assert.equal(resumed.event_payload, null);
    assert.deepEqual(await waits(queue), [], 'the claim used up the expired wait');
    assert.deepEqual(await awaitEvent(queue, spawned.task_id, claimed.run_id, 'wait#2', 'late', 30), { should_suspend: false, payload: null });
    assert.equal((await runRow(db, queue, claimed.run_id)).wake_event, null);
    assert.deepEqual(await waits(queue), [], 'no new wait for the timeout report');
    assert.equal((await awaitEvent(queue, spawned.task_id, claimed.run_id, 'wait#3', 'late', 30)).should_suspend, true);
    assert.deepEqual((await waits(queue))[0].timeout_at, addSeconds(start, 60));
  });

  test('an emit after the timeout but before the claim does not wake the run; a later await gets the payload', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    await awaitEvent(queue, spawned.task_id, claimed.run_id, 'wait', 'slowpoke', 10);
    await db.setFakeNow(addSeconds(start, 11));
    await emit(queue, 'slowpoke', 'arrived late');
    assert.deepEqual(await waits(queue), [], 'the expired wait was deleted, not woken');
    const run = await runRow(db, queue, claimed.run_id);
    assert.equal(run.state, 'sleeping');
    assert.equal(run.event_payload, null);
    assert.equal(await checkpoint(queue, spawned.task_id, 'wait'), undefined);
    const resumed = await claimOne(db, queue);
    assert.equal(resumed.wake_event, 'slowpoke');
    assert.equal(resumed.event_payload, null);
    assert.deepEqual(await awaitEvent(queue, spawned.task_id, claimed.run_id, 'another', 'slowpoke'), { should_suspend: false, payload: 'arrived late' });
  });

  test('timeout 0 makes the run due at once; negative timeouts and blank event names are rejected', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    assert.equal((await awaitEvent(queue, spawned.task_id, claimed.run_id, 'zero', 'never', 0)).should_suspend, true);
    const resumed = await claimOne(db, queue);
    assert.equal(resumed.wake_event, 'never');
    await rejectsWith(awaitEvent(queue, spawned.task_id, claimed.run_id, 'neg', 'e', -1), { message: /timeout must be >= 0/ });
    await rejectsWith(awaitEvent(queue, spawned.task_id, claimed.run_id, 'blank', '  '), { message: /event_name must be a non-blank/ });
    await rejectsWith(emit(queue, '', 1), { message: /event_name must be a non-blank/ });
    await rejectsWith(db.query('select absurd.emit_event($1, null, null)', [queue]), { message: /event_name must be a non-blank/ });
  });

  test('await_event reports unknown runs, runs that are not running and cancelled tasks; a stored checkpoint short-cuts', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    await rejectsWith(awaitEvent(queue, spawned.task_id, '00000000-0000-7000-8000-0000000000cc', 's', 'e'), { message: /not found/ });
    await rejectsWith(awaitEvent(queue, spawned.task_id, spawned.run_id, 's', 'e'), { message: /must be running/ });
    const claimed = await claimOne(db, queue);
    await db.query('select absurd.set_task_checkpoint_state($1, $2, $3, $4, $5)', [queue, spawned.task_id, 'stored', '"kept"', claimed.run_id]);
    await db.query('select absurd.cancel_task($1, $2)', [queue, spawned.task_id]);
    assert.deepEqual(await awaitEvent(queue, spawned.task_id, claimed.run_id, 'stored', 'e'), { should_suspend: false, payload: 'kept' });
    await rejectsWith(awaitEvent(queue, spawned.task_id, claimed.run_id, 'fresh', 'e'), { code: 'AB001' });
  });

  test('the SDK waits for an event across executions and times out with TimeoutError', async () => {
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    const seen: unknown[] = [];
    absurd.registerTask({ name: 'waiter' }, async (_params, context) => {
      const payload = await context.awaitEvent('approved');
      seen.push(payload);
      try {
        await context.awaitEvent('never', { timeout: 60 });
        return { payload, second: 'arrived' };
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        const again = await context.awaitEvent('never', { timeout: 60 });
        return { payload, second: again };
      }
    });
    const { taskID } = await absurd.spawn('waiter', {});
    await absurd.workBatch('w', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'sleeping' });
    await absurd.emitEvent('approved', { by: 'alice' });
    await absurd.workBatch('w', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'sleeping' });
    await db.setFakeNow(addSeconds(start, 61));
    await absurd.workBatch('w', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: { payload: { by: 'alice' }, second: null } });
    assert.deepEqual(seen, [{ by: 'alice' }, { by: 'alice' }], 'the payload was replayed from its checkpoint on the second execution');
  });

  test('the SDK sleeps with sleepFor and resumes once the wake time has passed', async () => {
    await db.setFakeNow(null);
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    let executions = 0;
    absurd.registerTask({ name: 'napper' }, async (_params, context) => {
      executions++;
      await context.sleepFor('nap', 0.3);
      return executions;
    });
    const { taskID, runID } = await absurd.spawn('napper', {});
    await absurd.workBatch('w', 60, 1);
    assert.equal((await runRow(db, queue, runID)).state, 'sleeping');
    await absurd.workBatch('w', 60, 1);
    assert.equal(executions, 1, 'not due yet');
    await new Promise((resolve) => setTimeout(resolve, 350));
    await absurd.workBatch('w', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: 2 });
  });
});
