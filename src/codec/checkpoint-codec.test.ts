import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AISDKError, APICallError } from '@ai-sdk/provider';
import { CheckpointCodecError } from '../errors/checkpoint-codec-error.ts';
import { CheckpointSizeError } from '../errors/checkpoint-size-error.ts';
import { arbitraryValue, seededRandom } from '../../test/support/arbitrary-value.ts';
import { checkpointCodecVersion, decodeCheckpoint, defaultMaxCheckpointBytes, encodeCheckpoint } from './checkpoint-codec.ts';

const options = { stepName: 'test-step' };

/** What a replay sees: the envelope after a trip through JSON text (jsonb stores and returns parsed JSON). */
function viaJson(value: unknown): unknown {
  const encoded = encodeCheckpoint(value, options);
  const text = JSON.stringify(encoded);
  assertStorableJson(JSON.parse(text));
  return decodeCheckpoint(JSON.parse(text), options);
}

/** What a live run sees: the encoded value handed straight back, as absurd-sdk does on a first run. */
function live(value: unknown): unknown {
  return decodeCheckpoint(encodeCheckpoint(value, options), options);
}

/** Postgres jsonb rejects NUL characters and lone surrogates, in keys and in values. */
function assertStorableJson(value: unknown): void {
  if (typeof value === 'string') {
    assert.ok(!value.includes('\u0000') && value.isWellFormed(), `unstorable string ${JSON.stringify(value)}`);
  } else if (Array.isArray(value)) {
    value.forEach(assertStorableJson);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      assertStorableJson(key);
      assertStorableJson(item);
    }
  }
}

function codecError(run: () => unknown): CheckpointCodecError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof CheckpointCodecError, `expected CheckpointCodecError, got ${String(error)}`);
    assert.ok(CheckpointCodecError.isInstance(error));
    return error;
  }
  assert.fail('expected a CheckpointCodecError');
}

describe('checkpoint codec round trip', () => {
  test('round-trips generated values through JSON text and directly', () => {
    for (let seed = 1; seed <= 1_500; seed++) {
      const value = arbitraryValue(seededRandom(seed));
      assert.deepStrictEqual(viaJson(value), value, `seed ${seed} via JSON`);
      assert.deepStrictEqual(live(value), value, `seed ${seed} live`);
    }
  });

  test('plain JSON passes through without copying', () => {
    const value = { content: [{ type: 'text', text: 'hello' }], usage: { inputTokens: 3 }, warnings: [] };
    const encoded = encodeCheckpoint(value, options) as { codec: number; value: unknown };
    assert.equal(encoded.codec, checkpointCodecVersion);
    assert.equal(encoded.value, value);
    assert.equal(decodeCheckpoint(encoded, options), value);
  });

  test('copies only the containers that hold a tagged value', () => {
    const untouched = { text: 'same' };
    const value = { untouched, changed: { timestamp: new Date(0) } };
    const decoded = live(value) as typeof value;
    assert.equal(decoded.untouched, untouched);
    assert.notEqual(decoded.changed, value.changed);
    assert.deepStrictEqual(decoded, value);
  });

  test('keeps keys whose value is undefined and undefined array slots', () => {
    const value = { usage: { cacheWrite: undefined, total: 4 }, slots: [1, undefined, 3], top: undefined };
    for (const decoded of [viaJson(value), live(value)] as (typeof value)[]) {
      assert.ok('cacheWrite' in decoded.usage);
      assert.ok('top' in decoded);
      assert.deepStrictEqual(decoded.slots, [1, undefined, 3]);
      assert.equal(decoded.slots.length, 3);
    }
    assert.equal(viaJson(undefined), undefined);
  });

  test('numbers JSON cannot carry', () => {
    const value = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 12345678901234567890n, -5n];
    const decoded = viaJson(value) as unknown[];
    assert.deepStrictEqual(decoded, value);
    assert.ok(Object.is(decoded[3], -0));
    assert.ok(Object.is(decoded[4], 0));
  });

  test('strings and keys with NUL characters or lone surrogates', () => {
    const value = { 'key\u0000with nul': 'a\u0000b', broken: '\ud83d', ['\udc00']: ['\u0000\u0000'] };
    const text = JSON.stringify(encodeCheckpoint(value, options));
    assert.ok(!text.includes('\\u0000'));
    assert.deepStrictEqual(viaJson(value), value);
  });

  test('escapes user objects that own the tag key', () => {
    const value = { '~t': 'date', v: '2020-01-01T00:00:00.000Z', nested: [{ '~t': 'undefined' }] };
    const decoded = viaJson(value);
    assert.deepStrictEqual(decoded, value);
    assert.equal(typeof (decoded as typeof value)['~t'], 'string');
  });

  test('a "__proto__" key stays an own property', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "when": null}');
    value.when = new Date(5);
    const decoded = viaJson(value) as Record<string, unknown>;
    assert.ok(Object.hasOwn(decoded, '__proto__'));
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('dates, URLs, bytes, buffers, typed arrays, maps, sets and regular expressions', () => {
    const value = {
      timestamp: new Date('2026-01-02T03:04:05.678Z'),
      invalid: new Date(Number.NaN),
      url: new URL('https://example.com/a?b=c#d'),
      bytes: new Uint8Array([0, 1, 254, 255]),
      slice: new Uint8Array([9, 8, 7, 6]).subarray(1, 3),
      buffer: Buffer.from('hello'),
      floats: new Float32Array([1.5, Number.NaN]),
      view: new DataView(new Uint8Array([1, 2, 3]).buffer),
      arrayBuffer: new Uint8Array([4, 5]).buffer,
      map: new Map<unknown, unknown>([['a', new Date(1)], [2, undefined]]),
      set: new Set([1, 'two', undefined]),
      pattern: /x+y/gi,
    };
    const decoded = viaJson(value) as typeof value;
    assert.deepStrictEqual(decoded, value);
    assert.equal(Object.getPrototypeOf(decoded.bytes), Uint8Array.prototype);
    assert.ok(Buffer.isBuffer(decoded.buffer));
    assert.deepStrictEqual([...decoded.slice], [8, 7]);
    assert.ok(Number.isNaN(decoded.invalid.getTime()));
  });

  test('AI SDK errors keep their name, message, data fields and isInstance identity', () => {
    const error = new APICallError({
      message: 'Too many requests',
      url: 'https://api.example.com/v1/chat',
      requestBodyValues: { model: 'm', temperature: undefined },
      statusCode: 429,
      responseHeaders: { 'retry-after': '1' },
      responseBody: '{"error":"rate"}',
      data: { code: 'rate_limit' },
    });
    for (const decoded of [viaJson(error), live(error)]) {
      assert.ok(decoded instanceof Error);
      assert.ok(APICallError.isInstance(decoded));
      assert.ok(AISDKError.isInstance(decoded));
      assert.equal(decoded.name, 'AI_APICallError');
      assert.equal(decoded.message, 'Too many requests');
      assert.equal(String(decoded), 'AI_APICallError: Too many requests');
      assert.equal(decoded.statusCode, 429);
      assert.equal(decoded.isRetryable, true);
      assert.deepStrictEqual(decoded.data, { code: 'rate_limit' });
      assert.deepStrictEqual(decoded.requestBodyValues, { model: 'm', temperature: undefined });
      assert.equal(decoded.stack, error.stack);
    }
  });

  test('native errors keep their class, cause and extra properties', () => {
    const cause = new RangeError('inner');
    const error = Object.assign(new TypeError('outer', { cause }), { code: 'E_OUTER' });
    const decoded = viaJson(error) as TypeError & { code: string };
    assert.ok(decoded instanceof TypeError);
    assert.ok(decoded.cause instanceof RangeError);
    assert.equal((decoded.cause as Error).message, 'inner');
    assert.equal(decoded.code, 'E_OUTER');
    assert.equal(Object.getOwnPropertyDescriptor(decoded, 'cause')?.enumerable, false);
    const aggregate = viaJson(new AggregateError([new Error('a'), 'b'], 'both')) as AggregateError;
    assert.ok(aggregate instanceof AggregateError);
    assert.deepStrictEqual(aggregate.errors.map(String), ['Error: a', 'b']);
  });

  test('error properties that cannot be stored are left out, identically live and on replay', () => {
    const error = Object.assign(new Error('boom'), { retry: () => 1, status: 500 });
    const circular = new Error('loop', { cause: undefined as unknown });
    Object.defineProperty(circular, 'cause', { value: circular, enumerable: false });
    for (const decoded of [viaJson(error), live(error)] as (Error & Record<string, unknown>)[]) {
      assert.equal(decoded.status, 500);
      assert.ok(!('retry' in decoded));
    }
    const decodedLoop = viaJson(circular) as Error;
    assert.equal(decodedLoop.message, 'loop');
    assert.ok(!('cause' in decodedLoop));
  });
});

describe('checkpoint codec errors', () => {
  const toolOptions = { stepName: 'tool:weather:call-1', subject: 'tool "weather"' };

  test('a function names the subject, the path and the fix', () => {
    const error = codecError(() => encodeCheckpoint({ callback: () => 1 }, toolOptions));
    assert.equal(error.path, 'output.callback');
    assert.equal(error.stepName, 'tool:weather:call-1');
    assert.match(error.message, /^Tool "weather" returned a value that cannot be checkpointed at output\.callback: a function/);
    assert.match(error.message, /Return plain data/);
  });

  test('paths through arrays, odd keys, maps and sets', () => {
    assert.equal(codecError(() => encodeCheckpoint({ items: [1, 2, { callback() {} }] }, toolOptions)).path, 'output.items[2].callback');
    assert.equal(codecError(() => encodeCheckpoint({ 'a b': Symbol('s') }, toolOptions)).path, 'output["a b"]');
    assert.equal(codecError(() => encodeCheckpoint(new Map<string, unknown>([['k', 1], ['j', () => 1]]), toolOptions)).path, 'output<map entry 1>');
    assert.equal(codecError(() => encodeCheckpoint(new Set([Symbol.iterator]), toolOptions)).path, 'output<set item 0>');
    assert.equal(codecError(() => encodeCheckpoint(() => 1, toolOptions)).path, 'output');
  });

  test('symbols, promises, weak collections, streams and class instances', () => {
    class Connection {
      host = 'db';
    }
    const cases: [unknown, RegExp][] = [
      [Symbol('x'), /a symbol/],
      [Promise.resolve(1), /a Promise\. Await it/],
      [new WeakMap(), /a WeakMap/],
      [new WeakSet(), /a WeakSet/],
      [new ReadableStream(), /a stream/],
      [new Connection(), /an instance of Connection\. Class instances lose/],
      [new (class extends Uint8Array {})(2), /an instance of/],
      [new String('boxed'), /an instance of String/],
    ];
    for (const [value, message] of cases) {
      const error = codecError(() => encodeCheckpoint({ value }, toolOptions));
      assert.equal(error.path, 'output.value');
      assert.match(error.message, message);
    }
  });

  test('circular references', () => {
    const value: Record<string, unknown> = { list: [] };
    (value.list as unknown[]).push({ parent: value });
    const error = codecError(() => encodeCheckpoint(value, toolOptions));
    assert.equal(error.path, 'output.list[0].parent');
    assert.match(error.message, /a circular reference/);
    // A shared, non-circular reference is fine.
    const shared = { a: 1 };
    assert.deepStrictEqual(viaJson({ first: shared, second: shared }), { first: { a: 1 }, second: { a: 1 } });
  });

  test('without a subject the message names the checkpoint', () => {
    const error = codecError(() => encodeCheckpoint({ f() {} }, { stepName: 'model:3' }));
    assert.match(error.message, /^The value of checkpoint "model:3" cannot be checkpointed at output\.f: a function/);
  });

  test('oversized values throw CheckpointSizeError with size and limit', () => {
    assert.equal(defaultMaxCheckpointBytes, 8 * 1024 * 1024);
    const value = { text: 'é'.repeat(600) };
    const size = Buffer.byteLength(JSON.stringify(encodeCheckpoint(value, options)));
    assert.ok(size > 1_200);
    assert.doesNotThrow(() => encodeCheckpoint(value, { ...toolOptions, maxBytes: size }));
    try {
      encodeCheckpoint(value, { ...toolOptions, maxBytes: size - 1 });
      assert.fail('expected CheckpointSizeError');
    } catch (error) {
      assert.ok(error instanceof CheckpointSizeError);
      assert.equal(error.size, size);
      assert.equal(error.limit, size - 1);
      assert.equal(error.stepName, toolOptions.stepName);
      assert.match(error.message, /Tool "weather"/);
    }
  });

  test('an envelope from another codec version says so and how to fix it', () => {
    const newer = codecError(() => decodeCheckpoint({ codec: checkpointCodecVersion + 1, value: 1 }, options));
    assert.match(newer.message, /written with checkpoint codec version 2, but this release of ai-sdk-absurd reads version 1/);
    assert.match(newer.message, /upgrade/);
    assert.equal(newer.stepName, 'test-step');
    const older = codecError(() => decodeCheckpoint({ codec: 0, value: 1 }, options));
    assert.match(older.message, /older release/);
  });

  test('malformed checkpoints', () => {
    for (const stored of [null, 'text', 42, [], { value: 1 }]) {
      assert.match(codecError(() => decodeCheckpoint(stored, options)).message, /no codec envelope/);
    }
    const unknownTag = codecError(() => decodeCheckpoint({ codec: 1, value: { list: [{ '~t': 'mystery' }] } }, options));
    assert.equal(unknownTag.path, 'output.list[0]');
    assert.match(unknownTag.message, /unknown tag "mystery"/);
    assert.match(codecError(() => decodeCheckpoint({ codec: 1, value: { '~t': 'date' } }, options)).message, /malformed/);
    assert.match(codecError(() => decodeCheckpoint({ codec: 1, value: { '~t': 'bigint', v: 'x' } }, options)).message, /malformed/);
  });
});
