// Bad-input catalogue: queue names. Invalid names are refused on the client before any SQL runs;
// hostile names are legal identifiers that must be quoted, never executed, and must not touch
// other queues. Either way nothing already stored is lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { assertNothingStoredChanged, clearError, storedState } from './stored-state.ts';

const invalidNames: ReadonlyArray<{ name: string; value: unknown; patterns: RegExp[] }> = [
  { name: 'an empty name', value: '', patterns: [/must be a non-empty string/, /e\.g\. 'agents'/] },
  { name: 'a non-string name', value: 42, patterns: [/Invalid queue name 42/, /must be a non-empty string/] },
  { name: 'a name over 57 bytes', value: 'q'.repeat(58), patterns: [/58 bytes in UTF-8, over the limit of 57/, /Choose a shorter name/] },
  { name: 'a multi-byte name over 57 bytes', value: 'é'.repeat(29), patterns: [/58 bytes in UTF-8/, /Choose a shorter name/] },
  { name: 'a name with a NUL character', value: 'bad\u0000name', patterns: [/contains a NUL character, which Postgres text cannot hold/] },
  { name: 'a name with a lone high surrogate', value: 'jobs\uD800', patterns: [/lone UTF-16 surrogate/, /toWellFormed/] },
  { name: 'a name with a lone low surrogate', value: 'jobs\uDC00', patterns: [/lone UTF-16 surrogate/] },
];

const hostileNames = [
  `x"; drop schema absurd cascade; --`,
  `Robert'); drop table absurd.queues; --`,
  'spaces and MixedCase',
  '-leading-dash',
  '_$%^&*()[]{}',
  'ünïcødé ✓',
  'é'.repeat(28),
  // Protocol §9.2 accepts every name of 1 to 57 bytes: blanks and control characters too.
  '   ',
  'tab\tand\nnewline',
  'bell\u0007',
];

describe('bad input: queue names', () => {
  let database: TestDatabase;
  let absurd: Absurd;
  let existingTaskID: string;

  before(async () => {
    database = await createTestDatabase();
    absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('existing') });
    absurd.registerTask({ name: 'keep-me' }, async () => null);
    await absurd.createQueue();
    existingTaskID = (await absurd.spawn('keep-me', { note: 'stored before any bad input' })).taskID;
  });
  after(async () => {
    await absurd?.close();
    await database?.close();
  });

  for (const invalid of invalidNames) {
    test(`refuses ${invalid.name} in new Absurd(), createQueue() and spawn()`, async () => {
      const stored = await storedState(database);
      const validate = clearError(ConfigurationError, ...invalid.patterns);
      assert.throws(() => new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: invalid.value as string }), validate);
      await assert.rejects(absurd.createQueue(invalid.value as string), validate);
      // A task not registered on this client may name any queue; the name is checked all the same.
      await assert.rejects(absurd.spawn('unregistered', {}, { queue: invalid.value as string }), validate);
      await assertNothingStoredChanged(database, stored);
    });
  }

  for (const hostile of hostileNames) {
    test(`quotes the hostile name ${JSON.stringify(hostile)}: its queue works and no other queue is touched`, async () => {
      const stored = await storedState(database);
      const client = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: hostile });
      try {
        client.registerTask({ name: 'echo' }, async (params: { text: string }) => ({ echoed: params.text }));
        await client.createQueue();
        assert.ok((await client.listQueues()).includes(hostile));
        const { taskID } = await client.spawn('echo', { text: hostile });
        await client.workBatch('bad-input-worker', 30);
        assert.deepEqual(await client.fetchTaskResult(taskID), { state: 'completed', result: { echoed: hostile } });
        await client.dropQueue(hostile);
      } finally {
        await client.close();
      }
      assert.ok(!(await absurd.listQueues()).includes(hostile));
      await assertNothingStoredChanged(database, stored);
      const snapshot = await absurd.fetchTaskResult(existingTaskID);
      assert.equal(snapshot?.state, 'pending');
    });
  }

  test('names a queue that does not exist and how to create it, and stores nothing', async () => {
    const stored = await storedState(database);
    const missing = uniqueQueueName('missing');
    await assert.rejects(
      absurd.spawn('unregistered', {}, { queue: missing }),
      clearError(ConfigurationError, new RegExp(`Queue "${missing}" does not exist`), /Create it first with absurd\.createQueue/),
    );
    await assertNothingStoredChanged(database, stored);
  });
});
