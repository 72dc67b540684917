// Retryable failures back off exponentially unless the spawn, the task or the client says otherwise; the
// schema computes each retry's time from the strategy stored with the task, so the tests read it there.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { defaultRetryStrategy } from '../../src/client/retry-defaults.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { queueTable } from '../../src/db/queue-table.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const quiet = { log() {}, info() {}, warn() {}, error() {} };
let database: TestDatabase;
let absurd: Absurd;
before(async () => {
  database = await createTestDatabase();
  absurd = new Absurd({ db: database.db, queueName: uniqueQueueName('backoff'), log: quiet });
  await absurd.createQueue();
  absurd.registerTask({ name: 'always-fails', defaultMaxAttempts: 4 }, async () => {
    throw new Error('the provider is down');
  });
  absurd.registerTask(
    { name: 'fixed-retries', defaultMaxAttempts: 3, defaultRetryStrategy: { kind: 'fixed', baseSeconds: 7 } },
    async () => {
      throw new Error('still down');
    },
  );
});
after(async () => {
  await absurd.close();
  await database.close();
});

async function storedStrategy(client: Absurd, taskID: string): Promise<unknown> {
  const { rows } = await database.query(`select retry_strategy from ${queueTable('t', client.queue)} where task_id = $1`, [taskID]);
  return rows[0]?.retry_strategy;
}

/** Seconds between a failed run and the run that retries it, as the schema planned them. */
async function retryDelays(client: Absurd, taskID: string): Promise<{ state: string; delay: number }[]> {
  const { rows } = await database.query<{ state: string; delay: number }>(
    `select next.state, extract(epoch from next.available_at - previous.failed_at)::float8 as delay
     from ${queueTable('r', client.queue)} previous
     join ${queueTable('r', client.queue)} next on next.task_id = previous.task_id and next.attempt = previous.attempt + 1
     where previous.task_id = $1 order by previous.attempt`,
    [taskID],
  );
  return rows.map((row) => ({ state: row.state, delay: Math.round(Number(row.delay) * 10) / 10 }));
}

test('a spawn without a strategy stores the exponential default, and the first retry waits 2 s', async () => {
  const { taskID } = await absurd.spawn('always-fails', {});
  assert.deepEqual(await storedStrategy(absurd, taskID), { kind: 'exponential', base_seconds: 2, factor: 2, max_seconds: 300 });
  await absurd.workBatch('backoff', 60, 1);
  assert.deepEqual(await retryDelays(absurd, taskID), [{ state: 'sleeping', delay: 2 }]);
  assert.deepEqual(defaultRetryStrategy, { kind: 'exponential', baseSeconds: 2, factor: 2, maxSeconds: 300 });
});

test('the typed handle of a registered task spawns with the same default', async () => {
  const handle = absurd.task({ name: 'always-fails' });
  const { taskID } = await handle.spawn({});
  assert.deepEqual(await storedStrategy(absurd, taskID), { kind: 'exponential', base_seconds: 2, factor: 2, max_seconds: 300 });
  await absurd.cancelTask(taskID);
});

test("a task's defaultRetryStrategy replaces the client's; a spawn's retryStrategy replaces both", async () => {
  const fromTask = await absurd.spawn('fixed-retries', {});
  assert.deepEqual(await storedStrategy(absurd, fromTask.taskID), { kind: 'fixed', base_seconds: 7 });
  await absurd.workBatch('backoff', 60, 1);
  assert.deepEqual(await retryDelays(absurd, fromTask.taskID), [{ state: 'sleeping', delay: 7 }]);

  const fromSpawn = await absurd.spawn('fixed-retries', {}, { retryStrategy: { kind: 'none' } });
  assert.deepEqual(await storedStrategy(absurd, fromSpawn.taskID), { kind: 'none' });
  await absurd.workBatch('backoff', 60, 1);
  assert.deepEqual(await retryDelays(absurd, fromSpawn.taskID), [{ state: 'pending', delay: 0 }]);
});

test("the client's defaultRetryStrategy applies to every task spawned without one", async () => {
  const immediate = new Absurd({ db: database.db, queueName: uniqueQueueName('immediate'), log: quiet, defaultRetryStrategy: { kind: 'none' } });
  try {
    await immediate.createQueue();
    immediate.registerTask({ name: 'fails-once', defaultMaxAttempts: 2 }, async () => {
      throw new Error('once');
    });
    const { taskID } = await immediate.spawn('fails-once', {});
    await immediate.workBatch('immediate', 60, 1);
    assert.deepEqual(await retryDelays(immediate, taskID), [{ state: 'pending', delay: 0 }]);
  } finally {
    await immediate.close();
  }
});

test('a strategy the schema would refuse is refused when the client is built or the task is spawned', async () => {
  assert.throws(
    () => new Absurd({ db: database.db, defaultRetryStrategy: { kind: 'linear' } as never }),
    (error: unknown) => error instanceof ConfigurationError && error.setting === 'defaultRetryStrategy' && /Invalid defaultRetryStrategy/.test(error.message),
  );
  await assert.rejects(
    absurd.spawn('always-fails', {}, { retryStrategy: { kind: 'fixed', baseSeconds: -1 } }),
    (error: unknown) => error instanceof ConfigurationError && error.setting === 'retryStrategy',
  );
});
