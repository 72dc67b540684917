import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, fingerprint } from './fingerprint.ts';

test('is 16 hex characters of sha-256 over canonical JSON', async () => {
  const { createHash } = await import('node:crypto');
  const value = { b: 1, a: [true, null, 'x'] };
  assert.equal(canonicalJson(value), '{"a":[true,null,"x"],"b":1}');
  assert.equal(fingerprint(value), createHash('sha256').update('{"a":[true,null,"x"],"b":1}').digest('hex').slice(0, 16));
  assert.match(fingerprint(value), /^[0-9a-f]{16}$/);
});

test('ignores key order and undefined values', () => {
  assert.equal(fingerprint({ a: 1, b: { c: 2, d: 3 } }), fingerprint({ b: { d: 3, c: 2 }, a: 1, e: undefined }));
});

test('tells different values apart', () => {
  const values = [{ a: 1 }, { a: '1' }, { a: [1] }, [1, 2], [2, 1], 'text', null, { a: 1, b: null }, new Uint8Array([1])];
  const prints = new Set(values.map(fingerprint));
  assert.equal(prints.size, values.length);
});

test('canonical forms of Uint8Array, URL, Date, Map, Set and BigInt', () => {
  assert.equal(canonicalJson(new Uint8Array([1, 2, 3])), '"AQID"');
  assert.equal(canonicalJson(new Uint8Array([9, 1, 2, 3]).subarray(1)), '"AQID"');
  assert.equal(canonicalJson(new URL('https://example.com/a')), '"https://example.com/a"');
  assert.equal(canonicalJson(new Date('2026-01-02T03:04:05.000Z')), '"2026-01-02T03:04:05.000Z"');
  assert.equal(canonicalJson(new Map([['z', 1], ['a', 2]])), '{"a":2,"z":1}');
  assert.equal(canonicalJson(new Set([3, 1])), '[3,1]');
  assert.equal(canonicalJson(10n), '"10"');
  assert.equal(canonicalJson([undefined, () => 1]), '[null,null]');
});

test('equal across a JSON round trip of the same data', () => {
  const value = { prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], temperature: 0.5 };
  assert.equal(fingerprint(value), fingerprint(JSON.parse(JSON.stringify(value))));
});

test('does not loop on circular values', () => {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  assert.match(fingerprint(value), /^[0-9a-f]{16}$/);
});
