// A checkpoint write decides whether its run still owns the task only once it holds the run's row
// lock: a write that waited on a claim whose lease sweep failed the run (or on a cancel) is refused,
// stores nothing, and so the next attempt has nothing of the stale run to replay.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import {
  addSeconds,
  claimOne,
  claimTasks,
  needsPostgres,
  rejectsWith,
  runRow,
  spawnTask,
  useProtocolDatabase,
  waitUntil,
  writeCheckpoint,
} from '../support/protocol-helpers.ts';

const start = new Date('2034-03-06T09:00:00.000Z');

describe('protocol: checkpoint write ownership', () => {
  const db = useProtocolDatabase({ fakeNow: start });

  const replayedBy = async (queue: string, taskId: string, runId: string) =>
    (await db.query('select checkpoint_name from absurd.get_task_checkpoint_states($1, $2, $3)', [queue, taskId, runId])).rows.map(
      (row) => row.checkpoint_name,
    );

  test('a write after the sweep failed its run gets AB002, and the next attempt replays nothing of it', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue, 'writer', {}, { max_attempts: 2 });
    const first = await claimOne(db, queue, { timeout: 30 });
    await db.setFakeNow(addSeconds(start, 31));
    const second = await claimOne(db, queue, { worker: 'rescuer' });
    assert.equal(second.attempt, 2);
    await rejectsWith(writeCheckpoint(db, queue, spawned.task_id, 'stale', { v: 1 }, first.run_id, 30), { code: 'AB002' });
    assert.deepEqual(await replayedBy(queue, spawned.task_id, second.run_id), []);
  });

  describe('racing another session that holds the run (Postgres)', { skip: needsPostgres }, () => {
    /** A session on its own connection, with the suite's fake clock and a known backend pid. */
    async function session(now: Date): Promise<{ client: pg.Client; pid: number }> {
      const client = await db.connect();
      await client.query(`select set_config('absurd.fake_now', $1, false)`, [now.toISOString()]);
      const { rows } = await client.query('select pg_backend_pid() as pid');
      return { client, pid: rows[0].pid };
    }
    const waitUntilBlocked = (pid: number) =>
      waitUntil(
        async () =>
          (await db.query(`select wait_event_type from pg_stat_activity where pid = $1`, [pid])).rows[0]?.wait_event_type === 'Lock',
        { what: `backend ${pid} to wait on a lock`, timeoutMs: 20_000 },
      );
    const write = (client: pg.Client, queue: string, taskId: string, step: string, runId: string) =>
      client.query('select absurd.set_task_checkpoint_state($1, $2, $3, $4, $5, $6)', [queue, taskId, step, '{"v":1}', runId, 30]);

    test('a write that waited on the claim sweeping its run is refused with AB002 once the claim commits', async () => {
      const queue = await db.createQueue();
      const spawned = await spawnTask(db, queue, 'writer', {}, { max_attempts: 2 });
      const first = await claimOne(db, queue, { timeout: 30 });
      const later = addSeconds(start, 31);
      const claimer = await session(later);
      const writer = await session(later);
      await claimer.client.query('begin');
      const [second] = (await claimer.client.query(`select * from absurd.claim_task($1, 'rescuer', 30, 1)`, [queue])).rows;
      assert.equal(second?.attempt, 2, 'the claim swept attempt 1 and handed out attempt 2');
      const writing = write(writer.client, queue, spawned.task_id, 'stale', first.run_id);
      writing.catch(() => {});
      await waitUntilBlocked(writer.pid);
      await claimer.client.query('commit');
      await rejectsWith(writing, { code: 'AB002' });
      assert.equal((await runRow(db, queue, first.run_id)).state, 'failed');
      assert.deepEqual(await replayedBy(queue, spawned.task_id, second.run_id), [], 'attempt 2 replays nothing of attempt 1');
      const { rows } = await db.query(`select count(*)::int as n from absurd."c_${queue}"`);
      assert.equal(rows[0].n, 0, 'no row was stored at all');
    });

    test('a write that waited on a cancel of its task is refused with AB001', async () => {
      const queue = await db.createQueue();
      const spawned = await spawnTask(db, queue, 'writer', {}, { max_attempts: 2 });
      const claimed = await claimOne(db, queue, { timeout: 30 });
      const canceller = await session(start);
      const writer = await session(start);
      await canceller.client.query('begin');
      await canceller.client.query('select absurd.cancel_task($1, $2)', [queue, spawned.task_id]);
      const writing = write(writer.client, queue, spawned.task_id, 'after-cancel', claimed.run_id);
      writing.catch(() => {});
      await waitUntilBlocked(writer.pid);
      await canceller.client.query('commit');
      await rejectsWith(writing, { code: 'AB001' });
      const { rows } = await db.query(`select count(*)::int as n from absurd."c_${queue}"`);
      assert.equal(rows[0].n, 0);
    });

    test('a write that holds the run first is kept, extends the lease, and the sweep leaves the run alone', async () => {
      const queue = await db.createQueue();
      const spawned = await spawnTask(db, queue, 'writer', {}, { max_attempts: 2 });
      const first = await claimOne(db, queue, { timeout: 30 });
      const later = addSeconds(start, 31);
      const writer = await session(later);
      await writer.client.query('begin');
      await write(writer.client, queue, spawned.task_id, 'in-time', first.run_id);
      await db.setFakeNow(later);
      assert.deepEqual(await claimTasks(db, queue, { worker: 'rescuer' }), [], 'the sweep skips the run the writer holds');
      await writer.client.query('commit');
      assert.deepEqual((await runRow(db, queue, first.run_id)).claim_expires_at, addSeconds(later, 30));
      assert.deepEqual(await claimTasks(db, queue, { worker: 'rescuer' }), [], 'the extended lease is live');
      assert.deepEqual(await replayedBy(queue, spawned.task_id, first.run_id), ['in-time']);
    });
  });
});
