import type { UIMessageChunk } from 'ai';
import type { Database } from '../db/database.ts';
import { queueTable } from '../db/queue-table.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { WakeSignal } from '../client/wake-signal.ts';
import { streamNotificationGeneration, subscribeToStream } from './stream-wake-hub.ts';

export interface ReadStreamOptions {
  /** First chunk to deliver (default 0). Negative counts from the end, moved back to the start of that part. */
  startIndex?: number;
  /** Stops reading (the stream closes) when aborted. */
  signal?: AbortSignal;
  /** Fallback poll interval when no notification arrives, in ms (default 1000). */
  pollIntervalMs?: number;
}

/** A chunk as delivered with its index in the task's stream. */
export interface IndexedChunk {
  index: number;
  chunk: UIMessageChunk;
}

const terminalStates = new Set(['completed', 'failed', 'cancelled']);

/**
 * The task's UI message chunks from `startIndex`: stored ones first, then live ones, closing once
 * the task is terminal and every chunk was delivered. A failed or cancelled task ends with an
 * `error` chunk carrying the reason; an unknown task id fails at once.
 */
export function readStream(database: Database, queue: string, taskID: string, options: ReadStreamOptions = {}): ReadableStream<UIMessageChunk> {
  const indexed = readIndexedStream(database, queue, taskID, options);
  return indexed.pipeThrough(new TransformStream<IndexedChunk, UIMessageChunk>({ transform: (item, c) => c.enqueue(item.chunk) }));
}

/** Like `readStream`, keeping each chunk's index (used to resume with `startIndex`). */
export function readIndexedStream(database: Database, queue: string, taskID: string, options: ReadStreamOptions = {}): ReadableStream<IndexedChunk> {
  const wake = new WakeSignal();
  let unsubscribe: (() => void) | undefined;
  let next: number | undefined;
  let done = false;
  let endingSoon = false;
  const pollMs = options.pollIntervalMs ?? 1000;
  const finish = () => {
    done = true;
    unsubscribe?.();
    unsubscribe = undefined;
    wake.notify();
  };
  options.signal?.addEventListener('abort', finish, { once: true });

  return new ReadableStream<IndexedChunk>({
    async start() {
      unsubscribe = subscribeToStream(database, taskID, () => wake.notify());
      try {
        next = await resolveStart(database, queue, taskID, options.startIndex ?? 0);
      } catch (error) {
        finish();
        throw error;
      }
    },
    async pull(controller) {
      while (!done) {
        wake.clear();
        const { state, rows } = await sharedRead(database, queue, taskID, next!);
        if (rows.rows.length > 0) {
          for (const row of rows.rows) controller.enqueue({ index: row.chunk_index, chunk: parseChunk(row.chunk) });
          next = rows.rows.at(-1)!.chunk_index + 1;
          const lastType = parseChunk(rows.rows.at(-1)!.chunk).type;
          endingSoon = lastType === 'finish' || lastType === 'error' || lastType === 'abort';
          return;
        }
        if (state && terminalStates.has(state.state)) {
          if (state.state !== 'completed') {
            controller.enqueue({ index: next!, chunk: { type: 'error', errorText: state.reason } });
          }
          finish();
          controller.close();
          return;
        }
        if (!state) {
          finish();
          controller.error(unknownTask(taskID, queue));
          return;
        }
        // A task's completion is not notified: once its message finished, look again soon.
        await wake.wait(endingSoon ? Math.min(pollMs, 25) : pollMs);
      }
      controller.close();
    },
    cancel() {
      finish();
    },
  });
}

interface ChunkRead {
  state: { state: string; reason: string } | undefined;
  rows: { rows: Array<{ chunk_index: number; chunk: UIMessageChunk }> };
}

/** Reads in flight per database, by queue, task and first index, with the notification generation they began at. */
const readsInFlight = new WeakMap<Database, Map<string, { generation: number; read: Promise<ChunkRead> }>>();

/**
 * The task's state, then its chunks from `from`. Readers of one task in one process that look at the same
 * index share one read, if no notification came since it began (it then saw every chunk they were woken for).
 */
function sharedRead(database: Database, queue: string, taskID: string, from: number): Promise<ChunkRead> {
  const generation = streamNotificationGeneration(database);
  let reads = readsInFlight.get(database);
  if (!reads) readsInFlight.set(database, (reads = new Map()));
  const key = `${queue}\u0000${taskID}\u0000${from}`;
  const current = reads.get(key);
  // Each reader gets chunks of its own: a consumer may change what it was given (useChat keeps data parts).
  if (current && generation !== undefined && current.generation === generation) return current.read.then(copyRead);
  const read = (async (): Promise<ChunkRead> => {
    // The task's state is read before its chunks: chunks written before it became terminal are then seen.
    const state = await taskState(database, queue, taskID);
    const rows = await database.query<{ chunk_index: number; chunk: UIMessageChunk }>(
      `select s.chunk_index, s.chunk from ai_sdk_absurd.stream_chunks s
       where s.queue_name = $1 and s.task_id = $2 and s.batch_last_index >= $3 and s.chunk_index >= $3
       order by s.chunk_index limit 500`,
      [queue, taskID, from],
    );
    return { state, rows };
  })();
  if (generation !== undefined) {
    const entry = { generation, read };
    reads.set(key, entry);
    const forget = () => {
      if (reads.get(key) === entry) reads.delete(key);
    };
    read.then(forget, forget);
  }
  return read;
}

function copyRead(read: ChunkRead): ChunkRead {
  return { state: read.state, rows: { rows: read.rows.rows.map((row) => ({ chunk_index: row.chunk_index, chunk: structuredClone(row.chunk) })) } };
}

function parseChunk(value: unknown): UIMessageChunk {
  return (typeof value === 'string' ? JSON.parse(value) : value) as UIMessageChunk;
}

function unknownTask(taskID: string, queue: string): ConfigurationError {
  return new ConfigurationError({ setting: 'taskID', message: `No task ${taskID} exists in queue "${queue}" to read a stream from.` });
}

async function taskState(database: Database, queue: string, taskID: string): Promise<{ state: string; reason: string } | undefined> {
  const { rows } = await database.query<{ state: string; failure_reason: unknown }>(
    `select t.state, r.failure_reason from ${queueTable('t', queue)} t
     left join ${queueTable('r', queue)} r on r.run_id = t.last_attempt_run where t.task_id = $1`,
    [taskID],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { state: row.state, reason: describeReason(row.state, row.failure_reason) };
}

function describeReason(state: string, reason: unknown): string {
  if (state === 'cancelled') return 'The task was cancelled.';
  const value = typeof reason === 'string' ? safeParse(reason) : reason;
  if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
    return (value as { message: string }).message;
  }
  return value == null ? 'The task failed.' : typeof value === 'string' ? value : JSON.stringify(value);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function resolveStart(database: Database, queue: string, taskID: string, startIndex: number): Promise<number> {
  if (!Number.isInteger(startIndex)) {
    throw new ConfigurationError({ setting: 'startIndex', message: `startIndex must be an integer, got ${String(startIndex)}.` });
  }
  const state = await taskState(database, queue, taskID);
  if (!state) throw unknownTask(taskID, queue);
  if (startIndex >= 0) return startIndex;
  const { rows } = await database.query<{ chunk_index: number; type: string }>(
    `select s.chunk_index, s.chunk->>'type' as type from ai_sdk_absurd.stream_chunks s
     where s.queue_name = $1 and s.task_id = $2 order by s.chunk_index`,
    [queue, taskID],
  );
  const start = Math.max(0, rows.length + startIndex);
  // Move back to the chunk that opened the step, or failing that the part, the start falls inside.
  let stepStart: number | undefined;
  const openParts = new Map<string, number>();
  for (const row of rows) {
    if (row.chunk_index >= start) break;
    if (row.type === 'start-step') stepStart = row.chunk_index;
    else if (row.type === 'finish-step') stepStart = undefined;
    else if (row.type.endsWith('-start') && row.type !== 'start') openParts.set(row.type.slice(0, -6), row.chunk_index);
    else if (row.type.endsWith('-end')) openParts.delete(row.type.slice(0, -4));
  }
  return stepStart ?? Math.min(start, ...openParts.values());
}
