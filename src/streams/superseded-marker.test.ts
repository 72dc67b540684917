import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readUIMessageStream, simulateReadableStream, type UIMessage, type UIMessageChunk } from 'ai';
import { discardSupersededChunks, supersededMarker } from './superseded-marker.ts';

async function assemble(chunks: readonly UIMessageChunk[]): Promise<UIMessage | undefined> {
  let message: UIMessage | undefined;
  for await (const update of readUIMessageStream({ stream: simulateReadableStream({ chunks: [...chunks], initialDelayInMs: null, chunkDelayInMs: null }) })) message = update;
  return message;
}

// A finished step with a tool call, then a step a lost attempt left at "Lost wor", written again.
const finishedStep: UIMessageChunk[] = [
  { type: 'start-step' },
  { type: 'tool-input-available', toolCallId: 'c1', toolName: 'lookup', input: { city: 'Oslo' } },
  { type: 'tool-output-available', toolCallId: 'c1', output: 'sunny' },
  { type: 'finish-step' },
];
const head: UIMessageChunk[] = [{ type: 'start' }, ...finishedStep, { type: 'start-step' }];
const lost: UIMessageChunk[] = [{ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'Lost wor' }];
const rewritten: UIMessageChunk[] = [
  { type: 'text-start', id: 't' },
  { type: 'text-delta', id: 't', delta: 'Kept words.' },
  { type: 'text-end', id: 't' },
  { type: 'finish-step' },
  { type: 'finish' },
];
const range = { fromIndex: head.length, toIndex: head.length + lost.length };
const marker = supersededMarker(range) as UIMessageChunk;
const live = [...head, ...lost, marker, { type: 'reset-step' } as UIMessageChunk, ...rewritten];
const late = [...head, ...lost.map(() => marker), marker, { type: 'reset-step' } as UIMessageChunk, ...rewritten];
const uninterrupted = [...head, ...rewritten];

test('assembled as received, a live and a late reader end with the message of an uninterrupted run', async () => {
  const expected = await assemble(uninterrupted);
  assert.deepEqual((await assemble(live))?.parts, expected?.parts);
  assert.deepEqual((await assemble(late))?.parts, expected?.parts);
  assert.deepEqual(expected?.parts.map((part) => part.type), ['step-start', 'tool-lookup', 'step-start', 'text']);
});

test('discardSupersededChunks leaves the chunks of an uninterrupted run, from any start index', () => {
  assert.deepEqual(discardSupersededChunks(live), uninterrupted);
  assert.deepEqual(discardSupersededChunks(late), uninterrupted);
  const from = head.length + 1;
  assert.deepEqual(discardSupersededChunks(live.slice(from), from), rewritten);
});
