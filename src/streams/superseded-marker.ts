import type { UIMessageChunk } from 'ai';

/** Type of the chunk that voids what a lost attempt wrote of a step that was then run again. */
export const supersededChunkType = 'data-absurd-superseded';

/** Stream indexes `[fromIndex, toIndex)` whose agent chunks (every chunk but `data-*` parts) are void. */
export interface SupersededRange {
  readonly fromIndex: number;
  readonly toIndex: number;
}

export interface SupersededMarker {
  readonly type: typeof supersededChunkType;
  readonly transient: true;
  readonly data: SupersededRange & { readonly reason: string };
}

/**
 * The marker written after a step that a crashed attempt left unfinished, before the step is written again.
 * It is transient, so `useChat` and `readUIMessageStream` do not add it to the message. When the voided chunks
 * follow their step's `start-step` (which stays), the marker is followed by a `reset-step` chunk, which clears
 * that step's parts from a message assembled by a reader that received them.
 */
export function supersededMarker(range: SupersededRange): SupersededMarker {
  return {
    type: supersededChunkType,
    transient: true,
    data: {
      fromIndex: range.fromIndex,
      toIndex: range.toIndex,
      reason: 'An attempt that ended before finishing this step wrote these chunks; the step was run again and follows.',
    },
  };
}

export function isSupersededMarker(chunk: unknown): chunk is SupersededMarker {
  return (chunk as { type?: unknown } | null)?.type === supersededChunkType;
}

/**
 * What a reader keeps of the chunks it received from `startIndex` (in order, one per stream index) once every
 * superseded marker is applied: the voided agent chunks, the markers and the `reset-step` after each marker
 * are dropped. (Assembling with `readUIMessageStream` or `useChat` needs none of this: the `reset-step` does it.)
 *
 * @example
 * const received: UIMessageChunk[] = [];
 * for await (const chunk of absurd.readStream(taskID)) received.push(chunk);
 * const message = discardSupersededChunks(received); // as an uninterrupted run would have written it
 */
export function discardSupersededChunks(chunks: readonly UIMessageChunk[], startIndex = 0): UIMessageChunk[] {
  const voided = new Set<number>();
  chunks.forEach((chunk, position) => {
    if (!isSupersededMarker(chunk)) return;
    for (let index = Math.max(chunk.data.fromIndex, startIndex); index < chunk.data.toIndex; index += 1) {
      const target = chunks[index - startIndex];
      if (target && !target.type.startsWith('data-')) voided.add(index - startIndex);
    }
    voided.add(position);
    if (chunks[position + 1]?.type === 'reset-step') voided.add(position + 1);
  });
  return chunks.filter((_chunk, position) => !voided.has(position));
}
