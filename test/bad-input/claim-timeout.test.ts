// Bad-input catalogue: claim timeouts. The schema stores a lease as whole seconds, so a fractional or
// non-positive timeout is refused up front instead of failing every poll.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { clearError } from './stored-state.ts';

describe('bad input: claim timeouts', () => {
  let database: TestDatabase;
  let absurd: Absurd;

  before(async () => {
    database = await createTestDatabase();
    absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('timeouts') });
    absurd.registerTask({ name: 'noop' }, async () => null);
    await absurd.createQueue();
  });
  after(async () => {
    await absurd?.close();
    await database?.close();
  });

  for (const value of [2.5, 0, -1, Number.NaN]) {
    test(`refuses claimTimeout ${value} in startWorker(), workBatch() and claimTasks()`, async () => {
      const validate = clearError(ConfigurationError, /Invalid claimTimeout/, /positive whole number of seconds/);
      await assert.rejects(absurd.startWorker({ claimTimeout: value }), validate);
      await assert.rejects(absurd.workBatch('w', value), validate);
      await assert.rejects(absurd.claimTasks({ claimTimeout: value }), validate);
    });
  }

  test('a whole claimTimeout still claims', async () => {
    await absurd.spawn('noop', {});
    const tasks = await absurd.claimTasks({ claimTimeout: 3, workerId: 'w' });
    assert.equal(tasks.length, 1);
  });
});
