// The step lookup, the checkpoint write, the spawn, the claim and the completion reach a queue's tables through a
// generated branch per registered queue (static SQL) or, for a queue without one, through dynamic
// dispatch. Both paths give the same answers and errors, for any queue name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimOne, completeRun, rejectsWith, spawnTask, useProtocolDatabase } from '../support/protocol-helpers.ts';
import { uniqueQueueName } from '../support/test-database.ts';

describe('protocol: step lookup and checkpoint write dispatch', () => {
  const db = useProtocolDatabase();

  const lookup = async (queue: string, taskID: string, step: string, includePending?: boolean) =>
    (
      await db.query(
        includePending === undefined
          ? 'select checkpoint_name, state, status from absurd.get_task_checkpoint_state($1, $2, $3)'
          : 'select checkpoint_name, state, status from absurd.get_task_checkpoint_state($1, $2, $3, $4)',
        includePending === undefined ? [queue, taskID, step] : [queue, taskID, step, includePending],
      )
    ).rows;
  const write = (queue: string, taskID: string, step: string, state: unknown, runID: string) =>
    db.query('select absurd.set_task_checkpoint_state($1, $2, $3, $4, $5, $6)', [queue, taskID, step, JSON.stringify(state), runID, 60]);
  const dispatcherSources = async () =>
    (
      await db.query(
        `select string_agg(pg_get_functiondef(p.oid), E'\n') as body from pg_proc p
         where p.pronamespace = 'absurd'::regnamespace
           and p.proname in ('get_task_checkpoint_state', 'set_task_checkpoint_state', 'spawn_task', 'claim_task', 'complete_run')`,
      )
    ).rows[0].body as string;

  /** Claims, writes, reads, hides a pending checkpoint, refuses an unknown run, completes, and spawns with a key, on one queue. */
  async function exerciseSteps(queue: string): Promise<void> {
    await spawnTask(db, queue, 'steps');
    const claimed = await claimOne(db, queue);
    assert.deepEqual(await lookup(queue, claimed.task_id, 'first'), []);
    await write(queue, claimed.task_id, 'first', { n: 1 }, claimed.run_id);
    assert.deepEqual(await lookup(queue, claimed.task_id, 'first'), [{ checkpoint_name: 'first', state: { n: 1 }, status: 'committed' }]);
    const table = `absurd."c_${queue.replaceAll('"', '""')}"`;
    await db.query(`update ${table} set status = 'pending' where checkpoint_name = 'first'`);
    assert.deepEqual(await lookup(queue, claimed.task_id, 'first'), [], 'a pending checkpoint is hidden by default');
    assert.equal((await lookup(queue, claimed.task_id, 'first', true)).length, 1, 'and shown when asked for');
    await rejectsWith(write(queue, claimed.task_id, 'second', 1, '00000000-0000-7000-8000-000000000000'), { message: /run .* not found in queue/ });
    await rejectsWith(write(queue, claimed.task_id, ' ', 1, claimed.run_id), { message: /step_name must be a non-blank string/ });
    await completeRun(db, queue, claimed.run_id, { done: true });
    await rejectsWith(completeRun(db, queue, claimed.run_id, null), { message: /is completed, not currently running/ });
    assert.deepEqual((await db.query('select * from absurd.claim_task($1, $2, 60, 1)', [queue, 'w'])).rows, []);
    const first = await spawnTask(db, queue, 'keyed', {}, { idempotency_key: 'once' });
    const again = await spawnTask(db, queue, 'keyed', {}, { idempotency_key: 'once' });
    assert.deepEqual([again.task_id, again.created], [first.task_id, false], 'a second spawn with the key finds the first');
  }

  test('every registered queue has a static branch, whatever its name holds', async () => {
    for (const name of [uniqueQueueName("it's $body1$ and $$"), uniqueQueueName('tab\tand "quotes"'), uniqueQueueName('plain')]) {
      await db.query('select absurd.create_queue($1)', [name]);
      const source = await dispatcherSources();
      const literal = (await db.query('select quote_literal($1::text) as literal', [name])).rows[0].literal;
      assert.equal(source.split(`if p_queue_name = ${literal} then`).length - 1, 5, `a branch in each function for ${JSON.stringify(name)}`);
      await exerciseSteps(name);
    }
  });

  test('a queue without a branch takes the dynamic path with the same results', async () => {
    const name = uniqueQueueName('unbranched');
    // Registered and given its tables and functions, but the public functions are not regenerated.
    await db.query(`insert into absurd.queues (queue_name) values ($1)`, [name]);
    await db.query(`select absurd.ensure_queue_tables($1), absurd.ensure_queue_own_functions($1)`, [name]);
    assert.ok(!(await dispatcherSources()).includes(name));
    await exerciseSteps(name);
  });

  test('an unknown or dropped queue gets the error that says how to create it, from each function', async () => {
    const dropped = await db.createQueue('dropped');
    await db.query('select absurd.drop_queue($1)', [dropped]);
    const taskID = '00000000-0000-7000-8000-000000000001';
    for (const name of [uniqueQueueName('missing'), dropped]) {
      await rejectsWith(lookup(name, taskID, 'step'), { code: '42P01', message: /does not exist; create it with/ });
      await rejectsWith(write(name, taskID, 'step', 1, taskID), { code: '42P01', message: /does not exist; create it with/ });
      await rejectsWith(claimOne(db, name), { code: '42P01', message: /does not exist; create it with/ });
      await rejectsWith(spawnTask(db, name, 'nowhere'), { code: '42P01', message: /does not exist; create it with/ });
      await rejectsWith(completeRun(db, name, taskID, null), { code: '42P01', message: /does not exist; create it with/ });
    }
  });
});
