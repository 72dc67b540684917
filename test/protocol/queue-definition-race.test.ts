// createQueue and dropQueue of one queue, racing each other while a worker polls that queue: they are
// serialised, so nobody sees a raw deadlock (40P01) or duplicate-type error (23505); a poll of a queue that
// is gone at that moment says so clearly; and the queue ends in the state of the last call.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { silentLog } from '../agent/agent-harness.ts';
import { createTestDatabase, uniqueQueueName, usingPostgres, type TestDatabase } from '../support/test-database.ts';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

test('concurrent createQueue/dropQueue of one queue while a worker polls it', async () => {
  const queue = uniqueQueueName('race');
  const clients = Array.from({ length: 4 }, () => new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: usingPostgres ? database.url : database.db, queueName: queue, log: silentLog }));
  const unexpected: string[] = [];
  const expectedPollFailure = (error: unknown) => /Queue ".*" does not exist/.test(String((error as Error).message));
  try {
    for (let round = 0; round < 12; round++) {
      let polling = true;
      const poller = (async () => {
        while (polling) {
          try {
            await clients[3]!.claimTasks({ batchSize: 1, claimTimeout: 30, workerId: 'poller' });
          } catch (error) {
            if (!expectedPollFailure(error)) unexpected.push(`poll: ${(error as { code?: string }).code ?? ''} ${(error as Error).message}`);
          }
        }
      })();
      const calls = [
        clients[0]!.createQueue(queue),
        clients[1]!.dropQueue(queue),
        clients[2]!.createQueue(queue),
        clients[0]!.dropQueue(queue),
        clients[1]!.createQueue(queue),
      ];
      const settled = await Promise.allSettled(calls);
      polling = false;
      await poller;
      for (const outcome of settled) {
        if (outcome.status === 'rejected') unexpected.push(`definition: ${(outcome.reason as { code?: string }).code ?? ''} ${(outcome.reason as Error).message}`);
      }
      // Whatever the interleaving, a final createQueue leaves a working queue.
      await clients[0]!.createQueue(queue);
      const { taskID } = await clients[0]!.spawn('noop', {}, { queue });
      assert.ok(await clients[0]!.fetchTaskResult(taskID));
    }
  } finally {
    for (const client of clients) await client.close();
  }
  assert.deepEqual(unexpected, []);
});
