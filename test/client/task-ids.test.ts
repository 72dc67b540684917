// Client methods that take a task id refuse one that is not a UUID with a ConfigurationError that
// says what a task id looks like, before any SQL is sent, instead of Postgres's
// "invalid input syntax for type uuid". A well-formed id of no task keeps its usual answer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { isTaskID, validateTaskID } from '../../src/client/task-id.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const badIDs: readonly unknown[] = ['not-a-uuid', '', ' 0190f5c2-7b1e-7c3a-9d4e-2f6a8b0c1d2e', '0190f5c2-7b1e-7c3a-9d4e-2f6a8b0c1d2', 42, undefined];

function isTaskIDError(error: unknown): boolean {
  assert.ok(error instanceof ConfigurationError, `expected a ConfigurationError, got ${String(error)}`);
  assert.equal(error.setting, 'taskID');
  assert.match(error.message, /^Invalid task id .*: a task id is a UUID such as "[0-9a-f-]{36}", as spawn\(\) returns it in taskID\./);
  return true;
}

describe('task ids', () => {
  let database: TestDatabase;
  let absurd: Absurd;
  before(async () => {
    database = await createTestDatabase();
    absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('ids') });
    await absurd.createQueue();
  });
  after(async () => {
    await absurd?.close();
    await database?.close();
  });

  test('one pattern: UUIDs in either case pass, anything else is refused', () => {
    const id = randomUUID();
    assert.ok(isTaskID(id) && isTaskID(id.toUpperCase()));
    for (const bad of badIDs) {
      assert.equal(isTaskID(bad), false, String(bad));
      assert.throws(() => validateTaskID(bad), isTaskIDError);
    }
    assert.equal(validateTaskID(id), id);
  });

  test('fetchTaskResult, awaitTaskResult, cancelTask, retryTask, readStream and streamResponse refuse a malformed id', async () => {
    for (const bad of ['not-a-uuid', 'abc\u0000']) {
      await assert.rejects(absurd.fetchTaskResult(bad), isTaskIDError);
      await assert.rejects(absurd.awaitTaskResult(bad, { timeout: 1 }), isTaskIDError);
      await assert.rejects(absurd.cancelTask(bad), isTaskIDError);
      await assert.rejects(absurd.retryTask(bad), isTaskIDError);
      assert.throws(() => absurd.readStream(bad), isTaskIDError);
      await assert.rejects(absurd.streamResponse(bad), isTaskIDError);
    }
  });

  test('a well-formed id of no task keeps the answers absurd-sdk gives', async () => {
    const unknown = randomUUID();
    assert.equal(await absurd.fetchTaskResult(unknown), null);
    await assert.rejects(absurd.cancelTask(unknown), /not found/);
    absurd.registerTask({ name: 'noop' }, async () => 'done');
    const { taskID } = await absurd.spawn('noop', {});
    await absurd.workBatch('worker', 30, 1);
    assert.deepEqual(await absurd.fetchTaskResult(taskID.toUpperCase()), { state: 'completed', result: 'done' });
  });
});
