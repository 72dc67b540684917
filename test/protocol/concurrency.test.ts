// Behaviour under concurrent sessions (Postgres only): exclusive claims, race-safe idempotent
// spawns, lock ordering of cancel against completion, no lost wake-ups between await and emit, and
// 16 workers draining a queue through the SDK.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Absurd as SdkAbsurd } from 'absurd-sdk';
import pg from 'pg';
import {
  claimOne,
  needsPostgres,
  runRow,
  spawnTask,
  taskRow,
  useProtocolDatabase,
  waitUntil,
} from '../support/protocol-helpers.ts';

describe('protocol: concurrency', { skip: needsPostgres }, () => {
  const db = useProtocolDatabase();

  /** A session whose backend pid is known, so tests can see when it blocks on a lock. */
  async function session(): Promise<{ client: pg.Client; pid: number }> {
    const client = await db.connect();
    const { rows } = await client.query('select pg_backend_pid() as pid');
    return { client, pid: rows[0].pid };
  }
  const waitUntilBlocked = (pid: number) =>
    waitUntil(
      async () => (await db.query(`select wait_event_type from pg_stat_activity where pid = $1`, [pid])).rows[0]?.wait_event_type === 'Lock',
      { what: `backend ${pid} to wait on a lock` },
    );
  const settled = async (promise: Promise<unknown>) =>
    Promise.race([promise.then(() => true, () => true), new Promise((resolve) => setTimeout(() => resolve(false), 50))]);

  test('concurrent claims never hand out the same run', async () => {
    const queue = await db.createQueue();
    await db.query(`select absurd.spawn_task($1, 'job', jsonb_build_object('n', n)) from generate_series(1, 60) n`, [queue]);
    const workers = await Promise.all(Array.from({ length: 8 }, () => session()));
    const claimed: string[] = [];
    await Promise.all(
      workers.map(async ({ client }, index) => {
        for (;;) {
          const { rows } = await client.query('select run_id from absurd.claim_task($1, $2, 60, 3)', [queue, `w${index}`]);
          if (rows.length === 0) return;
          claimed.push(...rows.map((row) => row.run_id));
        }
      }),
    );
    assert.equal(claimed.length, 60);
    assert.equal(new Set(claimed).size, 60);
  });

  test('concurrent spawns with one idempotency key create exactly one task', async () => {
    const queue = await db.createQueue();
    const sessions = await Promise.all(Array.from({ length: 8 }, () => session()));
    const results = await Promise.all(
      sessions.map(({ client }) =>
        client.query('select * from absurd.spawn_task($1, $2, $3, $4)', [queue, 'once', '{}', '{"idempotency_key": "race"}']).then((result) => result.rows[0]),
      ),
    );
    assert.equal(results.filter((row) => row.created).length, 1);
    assert.equal(new Set(results.map((row) => row.task_id)).size, 1);
    assert.equal((await db.query(`select count(*)::int as count from absurd."t_${queue}"`)).rows[0].count, 1);
  });

  for (const outcome of ['complete', 'fail'] as const) {
    test(`cancel_task waits for a run locked by ${outcome}_run and then leaves its outcome alone (no deadlock)`, async () => {
      const queue = await db.createQueue();
      const spawned = await spawnTask(db, queue, 'locked', {}, { max_attempts: 1 });
      await claimOne(db, queue);
      const holder = await session();
      const canceller = await session();
      await holder.client.query('begin');
      await holder.client.query(`select 1 from absurd."r_${queue}" where run_id = $1 for update`, [spawned.run_id]);
      const cancelling = canceller.client.query('select absurd.cancel_task($1, $2)', [queue, spawned.task_id]);
      await waitUntilBlocked(canceller.pid);
      assert.equal(await settled(cancelling), false, 'cancel_task waits instead of skipping the locked run');
      if (outcome === 'complete') {
        await holder.client.query('select absurd.complete_run($1, $2, $3)', [queue, spawned.run_id, '"won"']);
      } else {
        await holder.client.query('select absurd.fail_run($1, $2, $3)', [queue, spawned.run_id, '{"message":"lost"}']);
      }
      await holder.client.query('commit');
      await cancelling;
      const expected = outcome === 'complete' ? 'completed' : 'failed';
      assert.equal((await runRow(db, queue, spawned.run_id)).state, expected);
      assert.equal((await taskRow(db, queue, spawned.task_id)).state, expected);
    });
  }

  test('await first: an emit that races an uncommitted await blocks, then wakes the run', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    const waiter = await session();
    const emitter = await session();
    await waiter.client.query('begin');
    const { rows } = await waiter.client.query('select * from absurd.await_event($1, $2, $3, $4, $5)', [queue, spawned.task_id, claimed.run_id, 's', 'race']);
    assert.equal(rows[0].should_suspend, true);
    const emitting = emitter.client.query('select absurd.emit_event($1, $2, $3)', [queue, 'race', '"payload"']);
    await waitUntilBlocked(emitter.pid);
    await waiter.client.query('commit');
    await emitting;
    const run = await runRow(db, queue, claimed.run_id);
    assert.equal(run.state, 'pending');
    assert.equal(run.event_payload, 'payload');
  });

  test('emit first: an await that races an uncommitted emit blocks, then returns the payload without suspending', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    const waiter = await session();
    const emitter = await session();
    await emitter.client.query('begin');
    await emitter.client.query('select absurd.emit_event($1, $2, $3)', [queue, 'race', '"early"']);
    const awaiting = waiter.client.query('select * from absurd.await_event($1, $2, $3, $4, $5)', [queue, spawned.task_id, claimed.run_id, 's', 'race']);
    await waitUntilBlocked(waiter.pid);
    await emitter.client.query('commit');
    const { rows } = await awaiting;
    assert.deepEqual(rows[0], { should_suspend: false, payload: 'early' });
    assert.equal((await runRow(db, queue, claimed.run_id)).state, 'running');
  });

  test('an await blocked on its wait row keeps the event locked, so a concurrent emit waits and then wakes it', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    const blocker = await session();
    const waiter = await session();
    const emitter = await session();
    await blocker.client.query('begin');
    await blocker.client.query(
      `insert into absurd."w_${queue}" (run_id, step_name, task_id, event_name, created_at) values ($1, 's', $2, 'race', now())`,
      [claimed.run_id, spawned.task_id],
    );
    const awaiting = waiter.client.query('select * from absurd.await_event($1, $2, $3, $4, $5)', [queue, spawned.task_id, claimed.run_id, 's', 'race']);
    await waitUntilBlocked(waiter.pid);
    const emitting = emitter.client.query('select absurd.emit_event($1, $2, $3)', [queue, 'race', '"late"']);
    await waitUntilBlocked(emitter.pid);
    await blocker.client.query('rollback');
    assert.equal((await awaiting).rows[0].should_suspend, true);
    await emitting;
    const run = await runRow(db, queue, claimed.run_id);
    assert.equal(run.state, 'pending', 'woken by the emit that waited');
    assert.equal(run.event_payload, 'late');
  });

  test('16 workers drain 2,000 tasks: no task runs twice at once, none is lost, every checkpoint lands once', async () => {
    const queue = await db.createQueue('drain');
    const total = 2_000;
    const steps = 3;
    const running = new Set<string>();
    const overlaps: string[] = [];
    const stepRuns = new Map<string, number>();
    const quiet = { log() {}, info() {}, warn() {}, error: console.error, debug() {} } as unknown as Console;
    const pools = Array.from({ length: 16 }, () => new pg.Pool({ connectionString: db.database.url, max: 2 }));
    const workers = pools.map((pool) => {
      const absurd = new SdkAbsurd({ db: pool, queueName: queue, log: quiet });
      absurd.registerTask({ name: 'drain' }, async (params: { n: number }, context) => {
        if (running.has(context.taskID)) overlaps.push(context.taskID);
        running.add(context.taskID);
        try {
          let value = params.n;
          for (let step = 0; step < steps; step++) {
            value = await context.step(`step-${step}`, async () => {
              const key = `${context.taskID}:${step}`;
              stepRuns.set(key, (stepRuns.get(key) ?? 0) + 1);
              return value + 1;
            });
          }
          return value;
        } finally {
          running.delete(context.taskID);
        }
      });
      return absurd;
    });
    await db.query(`select absurd.spawn_task($1, 'drain', jsonb_build_object('n', n), '{"max_attempts": 3}') from generate_series(1, $2) n`, [queue, total]);
    const started = await Promise.all(workers.map((absurd, index) => absurd.startWorker({ concurrency: 2, claimTimeout: 120, pollInterval: 0.05, workerId: `w${index}` })));
    try {
      await waitUntil(
        async () => (await db.query(`select count(*)::int as done from absurd."t_${queue}" where state = 'completed'`)).rows[0].done === total,
        { timeoutMs: 90_000, what: 'the drain to finish' },
      );
    } finally {
      await Promise.all(started.map((worker) => worker.close()));
      await Promise.all(pools.map((pool) => pool.end()));
    }
    assert.deepEqual(overlaps, []);
    const { rows } = await db.query(
      `select count(*)::int as tasks, sum(attempts)::int as attempts,
              (select count(*)::int from absurd."c_${queue}") as checkpoints,
              (select count(*)::int from absurd."r_${queue}") as runs
       from absurd."t_${queue}"`,
    );
    assert.deepEqual(rows[0], { tasks: total, attempts: total, checkpoints: total * steps, runs: total });
    assert.equal(stepRuns.size, total * steps);
    assert.ok([...stepRuns.values()].every((runs) => runs === 1), 'each step body ran exactly once');
    const results = await db.query(`select count(*)::int as wrong from absurd."t_${queue}" where completed_payload <> to_jsonb((params->>'n')::int + $1)`, [steps]);
    assert.equal(results.rows[0].wrong, 0);
  });
});
