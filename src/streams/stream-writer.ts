import type { Queryable } from '../db/database.ts';
import { validateStreamChunk } from './validate-stream-chunk.ts';

/** How long a chunk may wait for others to share its commit. */
export const streamFlushIntervalMs = 25;

// Chunks a reader must see at once: the end of a message, tool results, approval requests, errors.
const urgentTypes = new Set(['finish', 'error', 'abort', 'tool-output-available', 'tool-output-error', 'tool-approval-request']);

/**
 * Appends one task's UI message chunks to its durable stream, batching them: a batch is committed
 * at most every 25 ms, or at once after an urgent chunk, in one statement.
 */
export class StreamWriter {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failure: unknown;
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
    this.pending.push(validateStreamChunk(chunk));
    if (urgentTypes.has((chunk as { type: string }).type)) void this.flush().catch(() => {});
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => {}), streamFlushIntervalMs);
    }
  }

  /** Commits every queued chunk; resolves once they are stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.database.query('select ai_sdk_absurd.append_stream_chunks($1, $2, $3, $4::jsonb)', [
          this.queue,
          this.taskID,
          this.runID,
          `[${batch.join(',')}]`,
        ]);
        this.commits += 1;
      } catch (error) {
        this.failure = error;
        throw error;
      }
    });
    return this.flushing;
  }
}
