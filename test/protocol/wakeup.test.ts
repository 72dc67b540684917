// The wake-up signal: pg_notify('absurd_wakeup', <queue>) whenever a run becomes claimable now, and
// never for work that is only due later.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PGlite } from '@electric-sql/pglite';
import {
  addSeconds,
  claimOne,
  failRun,
  spawnTask,
  useProtocolDatabase,
  waitUntil,
} from '../support/protocol-helpers.ts';

const start = new Date('2038-01-01T00:00:00.000Z');

describe('protocol: wake-up notifications', () => {
  const received: string[] = [];
  let stopListening: (() => Promise<void>) | undefined;
  let markers = 0;
  const db = useProtocolDatabase({
    fakeNow: start,
    async setUp(suite) {
      if (suite.database.kind === 'pglite') {
        stopListening = await (suite.database.db as PGlite).listen('absurd_wakeup', (payload) => received.push(payload));
      } else {
        const listener = await suite.connect();
        listener.on('notification', (message) => received.push(message.payload ?? ''));
        await listener.query('listen absurd_wakeup');
        stopListening = async () => {
          await listener.query('unlisten absurd_wakeup');
        };
      }
    },
    tearDown: async () => {
      await stopListening?.();
    },
  });

  /** Sends a marker notification and waits for it, so everything signalled before it has arrived. */
  async function fence(): Promise<number> {
    const marker = `marker-${++markers}`;
    await db.query(`select pg_notify('absurd_wakeup', $1)`, [marker]);
    await waitUntil(async () => received.includes(marker), { what: marker });
    return received.indexOf(marker);
  }

  /** Runs `operation` and returns the wake-ups it caused, fenced by markers on both sides. */
  async function wakeupsDuring(operation: () => Promise<unknown>): Promise<string[]> {
    const from = (await fence()) + 1;
    await operation();
    return received.slice(from, await fence());
  }

  test('spawn, an immediate retry, retry_task and a past wake time signal the queue; a delayed retry does not', async () => {
    const queue = await db.createQueue('wake q');
    assert.deepEqual(await wakeupsDuring(() => spawnTask(db, queue, 'a', {}, { max_attempts: 2 })), [queue]);
    const claimed = await claimOne(db, queue);
    assert.deepEqual(await wakeupsDuring(() => failRun(db, queue, claimed.run_id)), [queue], 'retry due now');
    const retry = await claimOne(db, queue);
    assert.deepEqual(await wakeupsDuring(() => failRun(db, queue, retry.run_id)), [], 'no attempts left');
    assert.deepEqual(await wakeupsDuring(() => db.query('select * from absurd.retry_task($1, $2)', [queue, claimed.task_id])), [queue]);

    const later = await spawnTask(db, queue, 'later', {}, { retry_strategy: { kind: 'fixed', base_seconds: 30 } });
    await db.query(`update absurd."r_${queue}" set available_at = available_at - interval '1 day' where run_id = $1`, [later.run_id]);
    const laterRun = await claimOne(db, queue);
    assert.equal(laterRun.run_id, later.run_id);
    assert.deepEqual(await wakeupsDuring(() => failRun(db, queue, laterRun.run_id)), [], 'retry due in 30 s');

    const sleepQueue = await db.createQueue();
    const sleeper = await spawnTask(db, sleepQueue, 'sleeper');
    await claimOne(db, sleepQueue);
    assert.deepEqual(
      await wakeupsDuring(() => db.query('select absurd.schedule_run($1, $2, $3)', [sleepQueue, sleeper.run_id, addSeconds(start, 60)])),
      [],
    );
    await db.setFakeNow(addSeconds(start, 60));
    await claimOne(db, sleepQueue);
    assert.deepEqual(
      await wakeupsDuring(() => db.query('select absurd.schedule_run($1, $2, $3)', [sleepQueue, sleeper.run_id, addSeconds(start, 1)])),
      [sleepQueue],
    );
  });

  test('emit_event signals only when it wakes a waiter', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    await db.query('select * from absurd.await_event($1, $2, $3, $4, $5)', [queue, spawned.task_id, claimed.run_id, 'step', 'go']);
    assert.deepEqual(await wakeupsDuring(() => db.query('select absurd.emit_event($1, $2, $3)', [queue, 'nobody-waits', '1'])), []);
    assert.deepEqual(await wakeupsDuring(() => db.query('select absurd.emit_event($1, $2, $3)', [queue, 'go', '1'])), [queue]);
    assert.deepEqual(await wakeupsDuring(() => db.query('select absurd.emit_event($1, $2, $3)', [queue, 'go', '2'])), [], 'a repeated emit wakes nobody');
  });

  test('a wait with timeout 0 is claimable at once and signals it', async () => {
    const queue = await db.createQueue();
    const spawned = await spawnTask(db, queue);
    const claimed = await claimOne(db, queue);
    assert.deepEqual(
      await wakeupsDuring(() => db.query('select * from absurd.await_event($1, $2, $3, $4, $5, 0)', [queue, spawned.task_id, claimed.run_id, 's', 'e'])),
      [queue],
    );
  });
});
