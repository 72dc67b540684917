// Bad-input catalogue: task and event names. Names that Postgres text cannot hold, or that are
// blank, are refused on the client with a ConfigurationError; hostile but valid names are stored
// as data, round-trip exactly, and never run as SQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { assertNothingStoredChanged, clearError, storedState } from './stored-state.ts';

const invalidNames: ReadonlyArray<{ name: string; value: string; patterns: RegExp[] }> = [
  { name: 'an empty name', value: '', patterns: [/name/i, /non-empty|blank/i] },
  { name: 'a blank name', value: '  \t ', patterns: [/name/i, /non-empty|blank/i] },
  { name: 'a name with a NUL character', value: 'agent\u0000run', patterns: [/NUL|control character/i] },
];

const hostileNames = [
  `agent'); drop schema absurd cascade; --`,
  'agent"quoted"',
  'ünïcødé ✓ agent',
  'a'.repeat(2_000),
];

describe('bad input: task and event names', () => {
  let database: TestDatabase;
  let absurd: Absurd;
  let queueName: string;

  before(async () => {
    database = await createTestDatabase();
    queueName = uniqueQueueName('names');
    absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName });
    absurd.registerTask({ name: 'keep-me' }, async () => null);
    await absurd.createQueue();
    await absurd.spawn('keep-me', { note: 'stored before any bad input' });
  });
  after(async () => {
    await absurd?.close();
    await database?.close();
  });

  for (const invalid of invalidNames) {
    test(`spawn() refuses ${invalid.name} for a task and stores nothing`, async () => {
      const stored = await storedState(database);
      await assert.rejects(absurd.spawn(invalid.value, {}, { queue: queueName }), clearError(ConfigurationError, ...invalid.patterns));
      await assertNothingStoredChanged(database, stored);
    });

    test(`registerTask() refuses ${invalid.name}`, () => {
      assert.throws(() => absurd.registerTask({ name: invalid.value }, async () => null), clearError(ConfigurationError, ...invalid.patterns));
    });

    test(`emitEvent() refuses ${invalid.name} for an event and stores nothing`, async () => {
      const stored = await storedState(database);
      await assert.rejects(absurd.emitEvent(invalid.value, { approved: true }), clearError(ConfigurationError, ...invalid.patterns));
      await assertNothingStoredChanged(database, stored);
    });
  }

  for (const hostile of hostileNames) {
    test(`stores the hostile task name ${JSON.stringify(hostile.slice(0, 40))} as data and runs it`, async () => {
      absurd.registerTask({ name: hostile }, async (params: { echo: string }) => ({ echoed: params.echo }));
      const { taskID } = await absurd.spawn(hostile, { echo: hostile });
      await absurd.workBatch('bad-input-worker', 30, 10);
      assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: { echoed: hostile } });
      const { rows } = await database.query<{ task_name: string }>(`select task_name from absurd."t_${queueName}" where task_id = $1`, [taskID]);
      assert.equal(rows[0]?.task_name, hostile);
    });
  }
});
