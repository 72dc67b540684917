// Bad-input catalogue: task params and event payloads that Postgres jsonb could not store as given.
// Each is refused before anything is written, with a message naming the problem and the fix.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { InvalidPayloadError } from '../../src/errors/invalid-payload-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { assertNothingStoredChanged, clearError, storedState } from './stored-state.ts';

const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;

const tenMegabytes = 'x'.repeat(10 * 1024 * 1024);

const badValues: ReadonlyArray<{ name: string; value: unknown; patterns: RegExp[] }> = [
  {
    name: 'a NUL character in a string',
    value: { text: 'before\u0000after' },
    patterns: [/contains a NUL character \(\\u0000\)/, /Remove it or encode the value/],
  },
  {
    name: 'a NUL character in an object key',
    value: { ['key\u0000']: 1 },
    patterns: [/NUL character/, /Remove it or encode the value/],
  },
  {
    name: '10 MB of JSON',
    value: { document: tenMegabytes },
    patterns: [/is \d+ bytes of JSON, over the limit of 8388608 bytes/, /pass a reference, or raise maxPayloadBytes/],
  },
  {
    name: 'a BigInt',
    value: { count: 10n ** 30n },
    patterns: [/not JSON-serializable/, /no BigInt/],
  },
  {
    name: 'a circular value',
    value: circular,
    patterns: [/not JSON-serializable/, /circular/],
  },
  {
    name: 'NaN',
    value: { ratio: Number.NaN },
    patterns: [/NaN/, /JSON/],
  },
  {
    name: 'Infinity',
    value: { limit: Number.POSITIVE_INFINITY },
    patterns: [/Infinity/, /JSON/],
  },
];

describe('bad input: task params and event payloads', () => {
  let database: TestDatabase;
  let absurd: Absurd;
  let queueName: string;

  before(async () => {
    database = await createTestDatabase();
    queueName = uniqueQueueName('params');
    absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName });
    absurd.registerTask({ name: 'keep-me' }, async () => null);
    absurd.registerTask({ name: 'agent' }, async () => null);
    await absurd.createQueue();
    await absurd.spawn('keep-me', { note: 'stored before any bad input', nested: { list: [1, 2, 3] } });
  });
  after(async () => {
    await absurd?.close();
    await database?.close();
  });

  for (const bad of badValues) {
    test(`spawn() refuses params with ${bad.name} and stores nothing`, async () => {
      const stored = await storedState(database);
      await assert.rejects(absurd.spawn('agent', bad.value), clearError(InvalidPayloadError, /Params of task "agent"/, ...bad.patterns));
      await assertNothingStoredChanged(database, stored);
    });

    test(`emitEvent() refuses a payload with ${bad.name} and stores nothing`, async () => {
      const stored = await storedState(database);
      await assert.rejects(
        absurd.emitEvent('approval', bad.value as never),
        clearError(InvalidPayloadError, /Payload of event "approval"/, ...bad.patterns),
      );
      await assertNothingStoredChanged(database, stored);
    });
  }

  test('a lone UTF-16 surrogate in params is refused with a clear error and stores nothing', async () => {
    const stored = await storedState(database);
    await assert.rejects(absurd.spawn('agent', { text: 'broken \ud800 pair' }), clearError(InvalidPayloadError, /surrogate/i));
    await assertNothingStoredChanged(database, stored);
  });

  test('text that merely spells a backslash-u escape is stored as given', async () => {
    const { taskID } = await absurd.spawn('agent', { text: '\\u0000 is not a NUL' });
    const { rows } = await database.query<{ params: unknown }>(`select params from absurd."t_${queueName}" where task_id = $1`, [taskID]);
    assert.deepEqual(rows[0]?.params, { text: '\\u0000 is not a NUL' });
  });
});
