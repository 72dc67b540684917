// The library's own client on a partitioned queue: createQueue passes storageMode through to
// absurd.create_queue, and a task with steps, a retry and an idempotency key runs to completion.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const quietLog = { log() {}, info() {}, warn() {}, error() {}, debug() {} } as unknown as Console;

describe('partitions: the library client', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  test('createQueue with storageMode partitioned makes partitioned tables, and tasks run on them', async () => {
    const queue = uniqueQueueName('library');
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: queue, log: quietLog });
    try {
      await absurd.createQueue(queue, { storageMode: 'partitioned', cleanupLimit: 50 });
      const { rows } = await database.query(
        `select relname::text, relkind::text from pg_class where relnamespace = 'absurd'::regnamespace and relname = any($1) order by 1`,
        [[`i_${queue}`, `t_${queue}`]],
      );
      assert.deepEqual(rows, [{ relname: `i_${queue}`, relkind: 'r' }, { relname: `t_${queue}`, relkind: 'p' }]);
      assert.equal((await absurd.getQueuePolicy(queue))?.storageMode, 'partitioned');
      let attempts = 0;
      absurd.registerTask({ name: 'add' }, async (params: { a: number; b: number }, context) => {
        attempts++;
        const sum = await context.step('sum', async () => params.a + params.b);
        if (attempts === 1) throw new Error('once more');
        return { sum };
      });
      const first = await absurd.spawn('add', { a: 2, b: 3 }, { idempotencyKey: 'add-2-3', maxAttempts: 2 });
      const again = await absurd.spawn('add', { a: 2, b: 3 }, { idempotencyKey: 'add-2-3' });
      assert.equal(again.taskID, first.taskID);
      await absurd.workBatch('worker', 60, 1);
      await absurd.workBatch('worker', 60, 1);
      assert.deepEqual(await absurd.fetchTaskResult(first.taskID), { state: 'completed', result: { sum: 5 } });
      assert.equal(attempts, 2);
    } finally {
      await absurd.close();
    }
  });
});
