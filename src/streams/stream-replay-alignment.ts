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
  /**
   * The superseded chunks follow the stored `start-step` of their step, which stays: a `reset-step` chunk
   * after the marker clears that step's parts for readers that assembled them, and `write` continues the step.
   */
  readonly resetStep?: boolean;
}

// Chunks whose fields may differ between attempts without changing the message (ids, metadata, time).
const framingTypes = new Set(['start', 'finish', 'start-step', 'finish-step', 'message-metadata']);
// Parts whose ids the AI SDK may invent per run: matched by position, and mapped to the stored id.
const partIdTypes = /^(text|reasoning)-(start|delta|end)$/;
// Results of the tool calls of one step: tools run concurrently, so their order may differ between attempts.
const toolResultTypes = new Set(['tool-output-available', 'tool-output-error']);

/**
 * Walks the stored agent chunks (no `data-*` parts, no `start`, no `reset-step`) alongside the produced ones.
 * While they match, nothing is written; the tool results of one step match in any order. At the first
 * difference inside a step, the stored chunks after that step's `start-step` to the end are superseded and
 * the step is reset, and the produced chunks of the step after its `start-step` are written again (a
 * difference outside a step supersedes from it). Once the
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
  /** Positions in `stored` ahead of the cursor already matched (a tool result that came earlier this time). */
  private readonly matchedAhead = new Set<number>();

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
      const position = this.cursor;
      this.advance();
      if (chunk.type === 'start-step') this.openStep = { position, skipped: [chunk] };
      else if (chunk.type === 'finish-step') this.openStep = undefined;
      else this.openStep?.skipped.push(chunk);
      return { write: [] };
    }
    const ahead = this.toolResultAhead(chunk);
    if (ahead !== undefined) {
      this.matchedAhead.add(ahead);
      this.openStep?.skipped.push(chunk);
      return { write: [] };
    }
    this.diverged = true;
    this.partIds.clear();
    const toIndex = this.stored.at(-1)!.index + 1;
    const open = this.openStep;
    this.openStep = undefined;
    if (!open) return { write: [chunk], supersede: { fromIndex: stored.index, toIndex } };
    // The step's stored `start-step` stays, so its reset clears only this step's parts.
    const fromIndex = this.stored[open.position]!.index + 1;
    return { write: [...open.skipped.slice(1), chunk], supersede: { fromIndex, toIndex }, resetStep: true };
  }

  /** Moves past the stored chunk at the cursor, and past those already matched ahead of it. */
  private advance(): void {
    this.cursor += 1;
    while (this.matchedAhead.delete(this.cursor)) this.cursor += 1;
  }

  /** The position of a stored tool result equal to `chunk` further on in the same step, if any. */
  private toolResultAhead(chunk: UIMessageChunk): number | undefined {
    if (!toolResultTypes.has(chunk.type)) return undefined;
    for (let position = this.cursor + 1; position < this.stored.length; position += 1) {
      const stored = this.stored[position]!.chunk;
      if (stored.type === 'finish-step' || stored.type === 'start-step') return undefined;
      if (!this.matchedAhead.has(position) && stored.type === chunk.type && this.matches(stored, chunk)) return position;
    }
    return undefined;
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
