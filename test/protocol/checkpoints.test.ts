// Checkpoints: per-attempt visibility, pending rows, SQL NULL states, and the write checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addSeconds,
  claimOne,
  failRun,
  rejectsWith,
  runRow,
  spawnTask,
  useProtocolDatabase,
  writeCheckpoint,
} from '../support/protocol-helpers.ts';

const start = new Date('2034-02-02T02:02:02.000Z');

describe('protocol: checkpoints', () => {
  const db = useProtocolDatabase({ fakeNow: start });

  const statesFor = async (queue: string, taskId: string, runId: string) =>
    (await db.query('select checkpoint_name, state from absurd.get_task_checkpoint_states($1, $2, $3)', [queue, taskId, runId])).rows;
  const stateOf = async (queue: string, taskId: string, step: string, includePending?: boolean) =>
    (
      await db.query(
        includePending === undefined
          ? 'select * from absurd.get_task_checkpoint_state($1, $2, $3)'
          : 'select * from absurd.get_task_checkpoint_state($1, $2, $3, $4)',
        includePending === undefined ? [queue, taskId, step] : [queue, taskId, step, includePending],
      )
    ).rows;

  test('attempt N sees what attempts 1..N wrote, oldest first; an older run never sees newer rows', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'multi', {}, { max_attempts: 3 });
    const first = await claimOne(db, queue);
    await writeCheckpoint(db, queue, spawned.task_id, 'b-first', 1, first.run_id);
    await db.setFakeNow(addSeconds(start, 1));
    await writeCheckpoint(db, queue, spawned.task_id, 'a-second', 2, first.run_id);
    await failRun(db, queue, first.run_id);
    await db.setFakeNow(addSeconds(start, 2));
    const second = await claimOne(db, queue);
    assert.deepEqual(await statesFor(queue, spawned.task_id, second.run_id), [
      { checkpoint_name: 'b-first', state: 1 },
      { checkpoint_name: 'a-second', state: 2 },
    ]);
    await writeCheckpoint(db, queue, spawned.task_id, 'c-third', 3, second.run_id);
    assert.deepEqual(
      (await statesFor(queue, spawned.task_id, first.run_id)).map((row) => row.checkpoint_name),
      ['b-first', 'a-second'],
      'attempt 1 does not see attempt 2',
    );
    assert.equal((await statesFor(queue, spawned.task_id, second.run_id)).length, 3);
  });

  test('rows that are not committed are hidden unless include_pending; ownerless rows are visible', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    await db.query(
      `insert into absurd."c_${queue}" (task_id, checkpoint_name, state, status, owner_run_id, updated_at)
       values ($1, 'draft', '"d"', 'pending', $2, $3), ($1, 'orphan', '"o"', 'committed', null, $3),
              ($1, 'gone', '"g"', 'committed', '00000000-0000-7000-8000-0000000000ff', $3)`,
      [spawned.task_id, claimed.run_id, start],
    );
    assert.deepEqual(await stateOf(queue, spawned.task_id, 'draft'), []);
    assert.deepEqual(await stateOf(queue, spawned.task_id, 'draft', false), []);
    const pending = await stateOf(queue, spawned.task_id, 'draft', true);
    assert.deepEqual(
      pending.map((row) => ({ ...row, updated_at: row.updated_at.toISOString() })),
      [{ checkpoint_name: 'draft', state: 'd', status: 'pending', owner_run_id: claimed.run_id, updated_at: start.toISOString() }],
    );
    assert.deepEqual(
      (await statesFor(queue, spawned.task_id, claimed.run_id)).map((row) => row.checkpoint_name).sort(),
      ['gone', 'orphan'],
      'pending rows are hidden; rows without a (live) owner are visible',
    );
    await writeCheckpoint(db, queue, spawned.task_id, 'draft', 'final', claimed.run_id);
    assert.equal((await stateOf(queue, spawned.task_id, 'draft'))[0]?.status, 'committed');
  });

  test('a checkpoint whose state is SQL NULL still counts as present for both getters', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    await writeCheckpoint(db, queue, spawned.task_id, 'undefined-result', undefined, claimed.run_id);
    const single = await stateOf(queue, spawned.task_id, 'undefined-result');
    assert.equal(single.length, 1);
    assert.equal(single[0].state, null);
    assert.deepEqual(await statesFor(queue, spawned.task_id, claimed.run_id), [{ checkpoint_name: 'undefined-result', state: null }]);
  });

  test('get_task_checkpoint_states rejects an unknown run and a run of another task', async () => {
    const queue = await db.createQueue();
    const one = await spawnTask(db, queue, 'one');
    const two = await spawnTask(db, queue, 'two');
    await rejectsWith(db.query('select * from absurd.get_task_checkpoint_states($1, $2, $3)', [queue, one.task_id, two.run_id]), {
      message: /does not belong/,
    });
    await rejectsWith(
      db.query('select * from absurd.get_task_checkpoint_states($1, $2, $3)', [queue, one.task_id, '00000000-0000-7000-8000-000000000001']),
      { message: /not found/ },
    );
  });

  test('writes are checked before anything is stored: blank step, unknown run, cancelled task, failed run', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'checked', {}, { max_attempts: 1 });
    const claimed = await claimOne(db, queue);
    await rejectsWith(writeCheckpoint(db, queue, spawned.task_id, ' ', 1, claimed.run_id), { message: /step_name must be a non-blank/ });
    await rejectsWith(writeCheckpoint(db, queue, spawned.task_id, 's', 1, '00000000-0000-7000-8000-000000000002'), { message: /not found/ });
    await failRun(db, queue, claimed.run_id);
    await rejectsWith(writeCheckpoint(db, queue, spawned.task_id, 'after-failure', 1, claimed.run_id), { code: 'AB002' });

    const cancelled = await spawnTask(db, queue, 'cancelled');
    const running = await claimOne(db, queue);
    await db.query('select absurd.cancel_task($1, $2)', [queue, cancelled.task_id]);
    await rejectsWith(writeCheckpoint(db, queue, cancelled.task_id, 'after-cancel', 1, running.run_id), { code: 'AB001', message: /cancelled/ });
    const { rows } = await db.query(`select count(*)::int as count from absurd."c_${queue}"`);
    assert.equal(rows[0].count, 0);
  });

  test('completed, pending and sleeping runs may still write, and only a live lease is extended', async () => {
    const queue = await db.createQueue();
    const pending = await spawnTask(db, queue, 'pending');
    await writeCheckpoint(db, queue, pending.task_id, 'early', 'p', pending.run_id, 60);
    assert.equal((await runRow(db, queue, pending.run_id)).claim_expires_at, null, 'no lease is created for a pending run');
    await db.setFakeNow(addSeconds(start, 1));
    const claimed = await claimOne(db, queue, { timeout: 10 });
    await db.query('select absurd.schedule_run($1, $2, $3)', [queue, claimed.run_id, addSeconds(start, 5)]);
    await writeCheckpoint(db, queue, pending.task_id, 'asleep', 's', claimed.run_id, 60);
    await db.setFakeNow(addSeconds(start, 5));
    await claimOne(db, queue, { timeout: 10 });
    await db.query('select absurd.complete_run($1, $2, $3)', [queue, claimed.run_id, '1']);
    await writeCheckpoint(db, queue, pending.task_id, 'after', 'c', claimed.run_id, 60);
    const run = await runRow(db, queue, claimed.run_id);
    assert.deepEqual(run.claim_expires_at, addSeconds(start, 15), 'a completed run keeps its lease as it was');
    assert.deepEqual((await statesFor(queue, pending.task_id, claimed.run_id)).map((row) => row.state), ['p', 's', 'c']);
  });

  test('the SDK replays checkpoints by step name, counting repeated names as name#2, name#3', async () => {
    const queue = await db.createQueue('sdk');
    const absurd = db.sdk(queue);
    let executions = 0;
    absurd.registerTask({ name: 'repeat' }, async (_params, context) => {
      executions++;
      const values = [];
      for (let index = 0; index < 3; index++) values.push(await context.step('tick', async () => `${executions}:${index}`));
      if (executions === 1) throw new Error('retry me');
      return values;
    });
    const { taskID } = await absurd.spawn('repeat', {}, { retryStrategy: { kind: 'none' } });
    await absurd.workBatch('w', 60, 1);
    await absurd.workBatch('w', 60, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: ['1:0', '1:1', '1:2'] });
    const { rows } = await db.query(`select checkpoint_name from absurd."c_${queue}" order by checkpoint_name`);
    assert.deepEqual(rows.map((row) => row.checkpoint_name), ['tick', 'tick#2', 'tick#3']);
  });
});
