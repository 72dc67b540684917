// Bad-input catalogue: what tools return. Values Postgres jsonb cannot hold as JSON (NaN, Infinity, -0,
// BigInt, NUL characters, lone surrogates, Dates, Maps, Sets, bytes, undefined) are checkpointed
// losslessly and replayed identically without running the tool again. Values no checkpoint can represent
// (circular values, functions, symbols, class instances) and oversized outputs fail the task with a
// codec or size error that names the tool, the path and the fix; everything stored before is kept.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CheckpointCodecError } from '../../src/errors/checkpoint-codec-error.ts';
import { CheckpointSizeError } from '../../src/errors/checkpoint-size-error.ts';
import { assertRowsKept, startCatalogueHarness, taskCheckpoints, type CatalogueHarness } from './agent-catalogue-harness.ts';
import { clearError, storedState } from './stored-state.ts';

class Connection {
  readonly host = 'db.internal';
  query() {
    return [];
  }
}

const losslessOutputs: ReadonlyArray<[string, () => unknown]> = [
  ['NaN, Infinity and -0', () => ({ ratio: Number.NaN, limit: Number.POSITIVE_INFINITY, floor: Number.NEGATIVE_INFINITY, zero: -0 })],
  ['a BigInt', () => ({ total: 2n ** 80n, negative: -(10n ** 30n) })],
  ['a NUL character (\\u0000) in a string and in a key', () => ({ text: 'before\u0000after', ['key\u0000']: 'value' })],
  ['a lone UTF-16 surrogate', () => ({ text: 'broken \ud800 pair' })],
  [
    'non-JSON values (Date, Map, Set, bytes, undefined)',
    () => ({
      at: new Date('2025-06-07T08:09:10.011Z'),
      index: new Map<unknown, unknown>([['a', 1], [2, { b: [3] }]]),
      tags: new Set(['x', 'y']),
      bytes: new Uint8Array([0, 1, 254, 255]),
      missing: undefined,
      list: [undefined, null],
    }),
  ],
  ['a plain string that is not JSON', () => 'not json: {unclosed'],
];

const unstorableOutputs: ReadonlyArray<[string, () => unknown, RegExp[]]> = [
  [
    'a circular value',
    () => {
      const node: Record<string, unknown> = { name: 'root', children: [] };
      (node.children as unknown[]).push({ parent: node });
      return node;
    },
    [/Tool "produce"/, /output\.children\[0\]\.parent/, /circular reference/, /remove the back-reference/],
  ],
  ['a function', () => ({ format: () => 'x' }), [/Tool "produce"/, /output\.format/, /a function/, /Return plain data instead/]],
  ['a symbol', () => ({ kind: Symbol('secret') }), [/Tool "produce"/, /output\.kind/, /a symbol/, /Use a string/]],
  [
    'a class instance',
    () => ({ connection: new Connection() }),
    [/Tool "produce"/, /output\.connection/, /an instance of Connection/, /Convert it to a plain object/],
  ],
];

describe('bad input: tool outputs', () => {
  let harness: CatalogueHarness;
  before(async () => {
    harness = await startCatalogueHarness();
    // Work that must survive every bad output below.
    await harness.run('stored before the catalogue', () => ({ ok: true }));
  });
  after(async () => {
    await harness?.close();
  });

  for (const [what, produce] of losslessOutputs) {
    test(`${what} is checkpointed losslessly and replayed without running the tool again`, async () => {
      const stored = await storedState(harness.database);
      const run = await harness.run(what, produce, { crashAfterRun: true });
      assert.deepEqual(run.errors, [undefined, undefined], 'both attempts completed the agent run');
      assert.equal(run.executions, 1, 'the replay used the checkpoint instead of running the tool');
      assert.deepStrictEqual(run.outputs[0], produce());
      assert.deepStrictEqual(run.outputs[1], run.outputs[0]);
      assert.equal((await harness.absurd.fetchTaskResult(run.taskID))?.state, 'completed');
      assertRowsKept(stored, await storedState(harness.database));
    });
  }

  for (const [what, produce, patterns] of unstorableOutputs) {
    test(`${what} fails the task with a CheckpointCodecError naming the tool, the path and the fix`, async () => {
      const stored = await storedState(harness.database);
      const run = await harness.run(what, produce);
      assert.equal(run.errors.length, 1);
      clearError(CheckpointCodecError, ...patterns)(run.errors[0]);
      const snapshot = await harness.absurd.fetchTaskResult(run.taskID);
      assert.equal(snapshot?.state, 'failed');
      assert.equal((snapshot as unknown as { failure: { name: string } }).failure.name, 'AiSdkAbsurdCheckpointCodecError');
      // The model call before the tool was checkpointed and stays; no tool checkpoint was half-written.
      const checkpoints = [...(await taskCheckpoints(harness, run.taskID)).keys()];
      assert.deepEqual(checkpoints, ['catalogue:1/model:1']);
      assertRowsKept(stored, await storedState(harness.database));
    });
  }

  test('a 10 MB output fails the task with a CheckpointSizeError giving the size, the limit and the fix', async () => {
    const stored = await storedState(harness.database);
    const run = await harness.run('ten megabytes', () => ({ document: 'x'.repeat(10 * 1024 * 1024) }));
    clearError(CheckpointSizeError, /Tool "produce"/, /of 104857\d\d bytes, over the limit of 8388608 bytes/, /store large data elsewhere/, /maxCheckpointBytes/)(
      run.errors[0],
    );
    const error = run.errors[0] as CheckpointSizeError;
    assert.equal(error.limit, 8 * 1024 * 1024);
    assert.ok(error.size > 10 * 1024 * 1024);
    assert.equal((await harness.absurd.fetchTaskResult(run.taskID))?.state, 'failed');
    assert.deepEqual([...(await taskCheckpoints(harness, run.taskID)).keys()], ['catalogue:1/model:1']);
    assertRowsKept(stored, await storedState(harness.database));
  });
});
