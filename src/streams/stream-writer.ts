import type { Queryable } from '../db/database.ts';
import { supersededMarker, type SupersededRange } from './superseded-marker.ts';
import { validateStreamChunk } from './validate-stream-chunk.ts';

/** How long a chunk may wait for others to share its commit. */
export const streamFlushIntervalMs = 25;

/** Queued chunks of this many characters of JSON are committed at once, so one batch row stays small. */
const batchCharacters = 4 * 1024 * 1024;

/** A chunk that comes this long after the last commit ended, with none in flight, is committed at once. */
const quietSpellMs = 5;

// Chunks a reader must see at once: the end of a message, tool results, approval requests, errors.
const urgentTypes = new Set(['finish', 'error', 'abort', 'tool-output-available', 'tool-output-error', 'tool-approval-request']);

const resetStepJson = JSON.stringify({ type: 'reset-step' });

/**
 * Appends one task's UI message chunks to its durable stream, batching them: a chunk that comes while no
 * commit is in flight and none ended in the last 5 ms is committed at once; while chunks keep coming, a
 * batch is committed every 25 ms, or at once after an urgent chunk, in one statement.
 */
export class StreamWriter {
  private pending: string[] = [];
  private pendingCharacters = 0;
  /** Agent chunks to void in the same statement as the next batch, which carries their marker. */
  private voiding: { range: SupersededRange; marker: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failure: unknown;
  /** When the last batch was sent, and when its commit ended (performance.now()). */
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  private inFlight = 0;
  /** Number of commits so far. */
  commits = 0;

  private readonly database: Queryable;
  private readonly queue: string;
  private readonly taskID: string;
  private readonly runID: string | null;

  constructor(database: Queryable, queue: string, taskID: string, runID: string | null = null) {
    this.database = database;
    this.queue = queue;
    this.taskID = taskID;
    this.runID = runID;
  }

  /** Queues a chunk; throws `InvalidPayloadError` (and stores nothing of it) when it cannot be stored. */
  write(chunk: unknown): void {
    if (this.failure) throw this.failure;
    const json = validateStreamChunk(chunk);
    this.pending.push(json);
    this.pendingCharacters += json.length;
    if (urgentTypes.has((chunk as { type: string }).type) || this.pendingCharacters >= batchCharacters) void this.flush().catch(() => {});
    else if (!this.timer) {
      const now = performance.now();
      if (this.inFlight === 0 && now - this.lastCommitAt >= quietSpellMs) void this.flush().catch(() => {});
      else this.timer = setTimeout(() => void this.flush().catch(() => {}), Math.max(0, streamFlushIntervalMs - (now - this.lastFlushAt)));
    }
  }

  /**
   * Voids the stored agent chunks of `range` (each becomes a copy of the marker, so indexes stay put) and
   * queues the marker, then with `resetStep` a `reset-step` chunk that clears the voided chunks' step from a
   * message assembled live, in one statement with the next batch: a reader sees all of it or none.
   */
  supersede(range: SupersededRange, options: { resetStep: boolean } = { resetStep: false }): void {
    if (this.failure) throw this.failure;
    const marker = validateStreamChunk(supersededMarker(range));
    this.voiding = { range, marker };
    this.pending.push(marker);
    if (options.resetStep) this.pending.push(resetStepJson);
    void this.flush().catch(() => {});
  }

  /** Commits every queued chunk; resolves once they are stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    const voiding = this.voiding;
    this.pending = [];
    this.pendingCharacters = 0;
    this.voiding = undefined;
    if (batch.length > 0) {
      this.lastFlushAt = performance.now();
      this.inFlight += 1;
    }
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      const params = [this.queue, this.taskID, this.runID, `[${batch.join(',')}]`];
      try {
        if (voiding) {
          await this.database.query(voidAndAppend, [...params, voiding.marker, voiding.range.fromIndex, voiding.range.toIndex]);
        } else {
          await this.database.query('select ai_sdk_absurd.append_stream_chunks($1, $2, $3, $4::jsonb)', params);
        }
        this.commits += 1;
      } catch (error) {
        this.failure = error;
        throw error;
      } finally {
        this.inFlight -= 1;
        this.lastCommitAt = performance.now();
      }
    });
    return this.flushing;
  }
}

// The stored agent chunks of a superseded range become copies of its marker in the statement that appends
// the marker (the subquery runs first), so readers that start later never see the voided chunks and chunk
// counts stay stream indexes.
const voidAndAppend = `select ai_sdk_absurd.append_stream_chunks($1, $2, $3, $4::jsonb)
from (select ai_sdk_absurd.void_stream_chunks($1, $2, $6, $7, $5::jsonb)) as voided`;
