// What a reader of a parent's durable stream checks of the sub-agent streams forwarded into it.
import assert from 'node:assert/strict';
import type { UIMessageChunk } from 'ai';
import { subAgentPartType, type SubAgentPart } from '../../src/tools/sub-agent-stream-forwarding.ts';

/** Every chunk a stream delivers, until it closes. */
export async function collectChunks(stream: ReadableStream<UIMessageChunk>): Promise<UIMessageChunk[]> {
  const chunks: UIMessageChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** The `data-sub-agent` parts among a parent's chunks, of one child when `childTaskID` is given. */
export function subAgentParts(chunks: readonly UIMessageChunk[], childTaskID?: string): SubAgentPart[] {
  return (chunks.filter((chunk) => chunk.type === subAgentPartType) as unknown as SubAgentPart[]).filter(
    (part) => childTaskID === undefined || part.id === childTaskID,
  );
}

/** A child's parts cover its stream from index 0 with no gap and no overlap, and only the last is final. */
export function assertForwardedOnce(parts: readonly SubAgentPart[], childChunks: readonly UIMessageChunk[], finalState: string): void {
  let next = 0;
  for (const part of parts) {
    assert.equal(part.data.fromIndex, next, 'parts follow one another');
    assert.equal(part.data.toIndex - part.data.fromIndex, part.data.chunks.length);
    next = part.data.toIndex;
  }
  assert.deepEqual(parts.flatMap((part) => part.data.chunks), childChunks, "the child's chunks, each once, in order");
  assert.equal(parts.at(-1)?.data.state, finalState);
  assert.ok(parts.slice(0, -1).every((part) => part.data.state === 'running'), 'only the last part is final');
}
