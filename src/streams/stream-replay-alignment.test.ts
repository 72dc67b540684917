import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UIMessageChunk } from 'ai';
import { StreamReplayAlignment } from './stream-replay-alignment.ts';

const step = (id: string, words: string[]): UIMessageChunk[] => [
  { type: 'start-step' },
  { type: 'text-start', id },
  ...words.map((delta): UIMessageChunk => ({ type: 'text-delta', id, delta })),
  { type: 'text-end', id },
  { type: 'finish-step' },
];
const stored = (chunks: UIMessageChunk[], from = 1) => chunks.map((chunk, i) => ({ index: from + i, chunk }));
const written = (alignment: StreamReplayAlignment, chunks: UIMessageChunk[]) => chunks.map((chunk) => alignment.accept(chunk));

test('chunks equal to the stored ones are skipped, part ids invented per run included; the rest is written with the stored id', () => {
  const alignment = new StreamReplayAlignment(stored([...step('a', ['one ', 'two '])].slice(0, 4)));
  const results = written(alignment, step('b', ['one ', 'two ', 'three']));
  assert.deepEqual(results.slice(0, 4).map((result) => result.write), [[], [], [], []]);
  assert.deepEqual(
    results.slice(4).flatMap((result) => result.write),
    [{ type: 'text-delta', id: 'a', delta: 'three' }, { type: 'text-end', id: 'a' }, { type: 'finish-step' }],
  );
  assert.ok(results.every((result) => result.supersede === undefined));
});

test('a difference inside a step supersedes the stored chunks after its start-step, resets the step and writes it again', () => {
  const earlier = step('a', ['first']);
  const lost = step('b', ['lost ', 'words']).slice(0, 4);
  const alignment = new StreamReplayAlignment(stored([...earlier, ...lost], 1));
  const results = written(alignment, [...earlier, ...step('b', ['lost ', 'other'])]);
  assert.ok(results.slice(0, earlier.length + 3).every((result) => result.write.length === 0));
  const diverged = results[earlier.length + 3]!;
  assert.deepEqual(diverged.supersede, { fromIndex: 2 + earlier.length, toIndex: 1 + earlier.length + lost.length });
  assert.equal(diverged.resetStep, true);
  assert.deepEqual(diverged.write, [{ type: 'text-start', id: 'b' }, { type: 'text-delta', id: 'b', delta: 'lost ' }, { type: 'text-delta', id: 'b', delta: 'other' }]);
  assert.deepEqual(alignment.accept({ type: 'text-end', id: 'b' }).write, [{ type: 'text-end', id: 'b' }]);
});

test('tool chunks must match in full; framing chunks by type', () => {
  const alignment = new StreamReplayAlignment(stored([{ type: 'finish', finishReason: 'stop' }, { type: 'tool-input-available', toolCallId: 'c1', toolName: 't', input: { a: 1 } }]));
  assert.deepEqual(alignment.accept({ type: 'finish', finishReason: 'length' }).write, []);
  const different = alignment.accept({ type: 'tool-input-available', toolCallId: 'c1', toolName: 't', input: { a: 2 } });
  assert.deepEqual(different.supersede, { fromIndex: 2, toIndex: 3 });
  assert.equal(different.resetStep, undefined, 'outside a step there is no step to reset');
});

test('the tool results of one step match in any order: tools run concurrently', () => {
  const call = (id: string): UIMessageChunk => ({ type: 'tool-input-available', toolCallId: id, toolName: 't', input: { id } });
  const result = (id: string): UIMessageChunk => ({ type: 'tool-output-available', toolCallId: id, output: { id } });
  const lost: UIMessageChunk[] = [{ type: 'start-step' }, call('a'), call('b'), result('b'), result('a'), { type: 'finish-step' }, { type: 'start-step' }];
  const alignment = new StreamReplayAlignment(stored(lost));
  const produced: UIMessageChunk[] = [{ type: 'start-step' }, call('a'), call('b'), result('a'), result('b'), { type: 'finish-step' }, { type: 'start-step' }];
  const results = written(alignment, produced);
  assert.ok(results.every((aligned) => aligned.write.length === 0 && aligned.supersede === undefined), JSON.stringify(results));
  assert.equal(alignment.aligning, false, 'every stored chunk was matched');
  // A result that differs from every stored one still supersedes.
  const other = new StreamReplayAlignment(stored(lost));
  const differing = written(other, [{ type: 'start-step' }, call('a'), call('b'), { type: 'tool-output-available', toolCallId: 'a', output: { id: 'x' } }]);
  assert.deepEqual(differing.at(-1)?.supersede, { fromIndex: 2, toIndex: 1 + lost.length });
});
