import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { APICallError } from '@ai-sdk/provider';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { arbitraryValue, seededRandom } from '../support/arbitrary-value.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/codec/checkpoint-codec.ts';

// Checkpoints live in a jsonb column: it rejects NUL characters and lone surrogates, reorders keys and
// parses numbers itself. This suite stores encoded values in a real jsonb and decodes what comes back.
let database: TestDatabase;

before(async () => {
  database = await createTestDatabase({ migrated: false });
});

after(async () => {
  await database?.close();
});

async function throughJsonb(value: unknown): Promise<unknown> {
  const encoded = encodeCheckpoint(value, { stepName: 'jsonb' });
  // absurd-sdk hands checkpoint state to Postgres as JSON text, as here.
  const { rows } = await database.query<{ state: unknown }>('select $1::jsonb as state', [JSON.stringify(encoded)]);
  return decodeCheckpoint(rows[0]!.state, { stepName: 'jsonb' });
}

test('generated values survive a jsonb round trip', async () => {
  for (let seed = 1; seed <= 300; seed++) {
    const value = arbitraryValue(seededRandom(seed));
    assert.deepStrictEqual(await throughJsonb(value), value, `seed ${seed}`);
  }
});

test('the values jsonb would reject or alter', async () => {
  const value = {
    nul: 'a\u0000b',
    ['key\u0000']: 1,
    loneSurrogate: '\ud800',
    numbers: [Number.NaN, Number.POSITIVE_INFINITY, -0, 2n ** 70n, 0.1 + 0.2, Number.MAX_SAFE_INTEGER],
    undefinedKey: undefined,
    tagLookalike: { '~t': 'error', name: 'x' },
    timestamp: new Date('2026-01-02T03:04:05.678Z'),
    file: { type: 'data', data: new Uint8Array([0, 255, 128]) },
    url: new URL('https://example.com/image.png'),
    error: new APICallError({ message: 'overloaded', url: 'https://x', requestBodyValues: {}, statusCode: 529 }),
  };
  const decoded = (await throughJsonb(value)) as typeof value;
  const { error, ...rest } = decoded;
  const { error: original, ...expected } = value;
  assert.deepStrictEqual(rest, expected);
  assert.ok(Object.is(decoded.numbers[2], -0));
  // The class itself is not restored, but its identity check and data are.
  assert.ok(APICallError.isInstance(error));
  assert.equal(String(error), String(original));
  assert.equal(error.statusCode, 529);
  assert.equal(error.isRetryable, true);
});
