// Lines up the agent chunks a new attempt produces with those earlier attempts already stored, so that a
// step replayed from its checkpoints is not written twice, and a step an earlier attempt left unfinished is
// either continued (the new attempt produced the same chunks so far) or superseded and written again.
import { isDeepStrictEqual } from 'node:util';
import type { UIMessageChunk } from 'ai';
import type { SupersededRange } from './superseded-marker.ts';

/** A chunk earlier attempts stored, with its stream index. */
export interface StoredChunk {
  readonly index: number;
  readonly chunk: UIMessageChunk;
}

/** What to write for one produced chunk: nothing (already stored), the chunk, or a superseded step again. */
export interface AlignedWrite {
  readonly write: UIMessageChunk[];
  /** Stored chunks to void (with a marker) before `write`. */
  readonly supersede?: SupersededRange;
}

// Chunks whose fields may differ between attempts without changing the message (ids, metadata, time).
const framingTypes = new Set(['start', 'finish', 'start-step', 'finish-step', 'message-metadata']);
// Parts whose ids the AI SDK may invent per run: matched by position, and mapped to the stored id.
const partIdTypes = /^(text|reasoning)-(start|delta|end)$/;

/**
 * Walks the stored agent chunks (no `data-*` parts, no `start`) alongside the produced ones. While they
 * match, nothing is written. At the first difference, the stored chunks from the start of the step that
 * differs to the end are superseded, and the produced chunks of that step are written again. Once the
 * stored chunks are used up, produced chunks are written (with part ids mapped to the stored ones).
 */
export class StreamReplayAlignment {
  private readonly stored: readonly StoredChunk[];
  private cursor = 0;
  private diverged = false;
  /** Position in `stored` of the `start-step` of the step being matched, with the produced chunks skipped since. */
  private openStep: { position: number; skipped: UIMessageChunk[] } | undefined;
  /** Produced part id → stored part id, for parts still open. */
  private readonly partIds = new Map<string, string>();

  constructor(stored: readonly StoredChunk[]) {
    this.stored = stored;
  }

  /** Whether produced chunks are still compared with stored ones. */
  get aligning(): boolean {
    return !this.diverged && this.cursor < this.stored.length;
  }

  accept(chunk: UIMessageChunk): AlignedWrite {
    if (!this.aligning) return { write: [this.mapPartId(chunk)] };
    const stored = this.stored[this.cursor]!;
    if (this.matches(stored.chunk, chunk)) {
      this.cursor += 1;
      if (chunk.type === 'start-step') this.openStep = { position: this.cursor - 1, skipped: [chunk] };
      else if (chunk.type === 'finish-step') this.openStep = undefined;
      else this.openStep?.skipped.push(chunk);
      return { write: [] };
    }
    this.diverged = true;
    this.partIds.clear();
    const from = this.stored[this.openStep?.position ?? this.cursor]!;
    const write = [...(this.openStep?.skipped ?? []), chunk];
    this.openStep = undefined;
    return { write, supersede: { fromIndex: from.index, toIndex: this.stored.at(-1)!.index + 1 } };
  }

  private matches(stored: UIMessageChunk, produced: UIMessageChunk): boolean {
    if (stored.type !== produced.type) return false;
    if (framingTypes.has(produced.type)) return true;
    const json = JSON.parse(JSON.stringify(produced)) as Record<string, unknown>;
    if (!partIdTypes.test(produced.type)) return isDeepStrictEqual(json, stored);
    const producedId = json.id as string;
    const storedId = (stored as { id: string }).id;
    if (produced.type.endsWith('-start')) {
      if (!isDeepStrictEqual({ ...json, id: storedId }, stored)) return false;
      this.partIds.set(producedId, storedId);
      return true;
    }
    if ((this.partIds.get(producedId) ?? producedId) !== storedId) return false;
    if (!isDeepStrictEqual({ ...json, id: storedId }, stored)) return false;
    if (produced.type.endsWith('-end')) this.partIds.delete(producedId);
    return true;
  }

  /** A part that was open when the stored chunks ran out keeps its stored id. */
  private mapPartId(chunk: UIMessageChunk): UIMessageChunk {
    if (this.partIds.size === 0 || !partIdTypes.test(chunk.type)) return chunk;
    const id = (chunk as { id: string }).id;
    const storedId = this.partIds.get(id);
    if (storedId === undefined) return chunk;
    if (chunk.type.endsWith('-end')) this.partIds.delete(id);
    return { ...chunk, id: storedId } as UIMessageChunk;
  }
}
