import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UIMessageChunk } from 'ai';
import { supersededMarker } from '../streams/superseded-marker.ts';
import { chunksPerPart, partsToForward } from './sub-agent-stream-forwarding.ts';

const forwarding = { parentQueue: 'q', parentTaskID: 'parent', toolCallId: 'call-1', agent: 'researcher' };
const delta = (text: string): UIMessageChunk => ({ type: 'text-delta', id: 't', delta: text });

test('nothing new and no final state: no part; a final state alone: one empty final part', () => {
  const chunks = [delta('a')];
  assert.deepEqual(partsToForward(chunks, 1, { taskID: 'child', forwarding }), []);
  const [final] = partsToForward(chunks, 1, { taskID: 'child', forwarding, finalState: 'cancelled' });
  assert.deepEqual(final, {
    type: 'data-sub-agent',
    id: 'child',
    data: { taskID: 'child', toolCallId: 'call-1', agent: 'researcher', state: 'cancelled', text: 'a', fromIndex: 1, toIndex: 1, chunks: [] },
  });
});

test('many chunks are split into parts that follow one another; only the last is final', () => {
  const chunks = Array.from({ length: chunksPerPart * 2 + 5 }, (_, index) => delta(`${index} `));
  const parts = partsToForward(chunks, 3, { taskID: 'child', forwarding, finalState: 'completed' });
  assert.deepEqual(
    parts.map((part) => [part.data.fromIndex, part.data.toIndex, part.data.state]),
    [
      [3, 3 + chunksPerPart, 'running'],
      [3 + chunksPerPart, 3 + 2 * chunksPerPart, 'running'],
      [3 + 2 * chunksPerPart, chunks.length, 'completed'],
    ],
  );
  assert.deepEqual(parts.flatMap((part) => part.data.chunks), chunks.slice(3));
  assert.equal(parts.at(-1)!.data.text, chunks.map((chunk) => (chunk as { delta: string }).delta).join(''));
});

test("the text leaves out what a superseded step wrote, as a reader of the child's stream shows it", () => {
  const chunks: UIMessageChunk[] = [
    { type: 'start-step' },
    { type: 'text-start', id: 't' },
    delta('lost '),
    supersededMarker({ fromIndex: 0, toIndex: 3 }) as UIMessageChunk,
    { type: 'start-step' },
    { type: 'text-start', id: 't' },
    delta('kept'),
  ];
  const [part] = partsToForward(chunks, 2, { taskID: 'child', forwarding });
  assert.equal(part!.data.text, 'kept');
  assert.equal(part!.data.chunks.length, 5, 'the chunks are forwarded as stored, the marker included');
});
