// Forwards a child task's durable stream into its parent's durable stream as `data-sub-agent` parts. The
// parent's stream itself records how far a child was forwarded (each part carries the child's stream
// indexes), and a forward reads that position and appends under the parent stream's lock in one
// transaction: whoever forwards (the child while it runs, the parent once it finished, a retry of
// either), every chunk of the child reaches the parent's stream exactly once.
import type { UIMessageChunk } from 'ai';
import type { Database } from '../db/database.ts';
import { discardSupersededChunks } from '../streams/superseded-marker.ts';
import { readIndexedStream } from '../streams/read-stream.ts';

/** The type of the parts a forwarded sub-agent stream adds to its parent's stream. */
export const subAgentPartType = 'data-sub-agent';

/** Where a child forwards its stream: the parent task and the tool call that spawned the child. */
export interface StreamForwarding {
  readonly parentQueue: string;
  readonly parentTaskID: string;
  readonly toolCallId: string;
  readonly agent: string;
}

/** The `data` of a `data-sub-agent` part. Parts of one child share the part id (the child task id). */
export interface SubAgentPartData {
  readonly taskID: string;
  readonly toolCallId: string;
  readonly agent: string;
  /** `running` while the child runs; its final state in the last part. */
  readonly state: 'running' | 'completed' | 'failed' | 'cancelled';
  /** The text the child has written so far (superseded chunks left out), for a UI to show. */
  readonly text: string;
  /** The child's stream chunks `[fromIndex, toIndex)` this part carries, as the child's stream holds them. */
  readonly fromIndex: number;
  readonly toIndex: number;
  readonly chunks: readonly UIMessageChunk[];
}

/** A `data-sub-agent` chunk as stored in the parent's stream. */
export interface SubAgentPart {
  readonly type: typeof subAgentPartType;
  readonly id: string;
  readonly data: SubAgentPartData;
}

type FinalState = Exclude<SubAgentPartData['state'], 'running'>;

/** At most this many child chunks per part, so that a part stays far below the stream's chunk size limit. */
export const chunksPerPart = 200;
const terminalStates = new Set(['completed', 'failed', 'cancelled']);

/**
 * Appends to the parent's stream the child's chunks not forwarded yet, and with `finalState` a last part
 * saying how the child ended. Does nothing once a final part is stored.
 */
export async function forwardChildStream(
  database: Database,
  forwarding: StreamForwarding,
  child: { readonly queue: string; readonly taskID: string },
  finalState?: FinalState,
): Promise<void> {
  await database.transaction(async (transaction) => {
    // The key append_stream_chunks locks: forwards and the parent's own appends take turns.
    await transaction.query(`select pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`, [
      forwarding.parentQueue,
      forwarding.parentTaskID,
    ]);
    const { rows: last } = await transaction.query<{ to_index: number; state: string }>(
      `select (s.chunk->'data'->>'toIndex')::integer as to_index, s.chunk->'data'->>'state' as state
       from ai_sdk_absurd.stream_chunks s
       where s.queue_name = $1 and s.task_id = $2::uuid and s.chunk->>'type' = $3 and s.chunk->>'id' = $4
       order by s.chunk_index desc limit 1`,
      [forwarding.parentQueue, forwarding.parentTaskID, subAgentPartType, child.taskID],
    );
    if (last[0] && terminalStates.has(last[0].state)) return;
    const forwarded = last[0]?.to_index ?? 0;
    const { rows } = await transaction.query<{ chunk_index: number; chunk: unknown }>(
      `select s.chunk_index, s.chunk from ai_sdk_absurd.stream_chunks s
       where s.queue_name = $1 and s.task_id = $2::uuid order by s.chunk_index`,
      [child.queue, child.taskID],
    );
    const all = rows.map((row) => (typeof row.chunk === 'string' ? JSON.parse(row.chunk) : row.chunk) as UIMessageChunk);
    const parts = partsToForward(all, forwarded, { taskID: child.taskID, forwarding, finalState });
    if (parts.length === 0) return;
    await transaction.query('select ai_sdk_absurd.append_stream_chunks($1, $2::uuid, null, $3::jsonb)', [
      forwarding.parentQueue,
      forwarding.parentTaskID,
      JSON.stringify(parts),
    ]);
  });
}

/**
 * Forwards the running child's stream while `work` runs, woken by each chunk it stores, then once more
 * after `work` has finished, so the child ends with everything it wrote forwarded.
 */
export async function forwardingWhile<T>(
  database: Database,
  forwarding: StreamForwarding,
  child: { readonly queue: string; readonly taskID: string },
  work: () => Promise<T>,
): Promise<T> {
  const stop = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let queued = false;
  const forwardSoon = () => {
    if (queued) return;
    queued = true;
    running = running.then(async () => {
      queued = false;
      await forwardChildStream(database, forwarding, child);
    });
  };
  const follower = (async () => {
    const chunks = readIndexedStream(database, child.queue, child.taskID, { signal: stop.signal, pollIntervalMs: 250 });
    for await (const _chunk of chunks) forwardSoon();
  })();
  try {
    const value = await work();
    await running;
    await forwardChildStream(database, forwarding, child);
    return value;
  } finally {
    stop.abort();
    await follower.catch(() => {});
    await running.catch(() => {});
  }
}

/**
 * The parts that forward `childChunks` (the child's whole stream) from index `forwarded` on, at most
 * `chunksPerPart` chunks each, the last one final with `finalState`; none when there is nothing to say.
 */
export function partsToForward(
  childChunks: readonly UIMessageChunk[],
  forwarded: number,
  child: { readonly taskID: string; readonly forwarding: StreamForwarding; readonly finalState?: FinalState | undefined },
): SubAgentPart[] {
  const fresh = childChunks.slice(forwarded);
  if (fresh.length === 0 && child.finalState === undefined) return [];
  const parts: SubAgentPart[] = [];
  for (let start = 0; start === 0 || start < fresh.length; start += chunksPerPart) {
    const end = Math.min(fresh.length, start + chunksPerPart);
    const last = end === fresh.length;
    parts.push({
      type: subAgentPartType,
      id: child.taskID,
      data: {
        taskID: child.taskID,
        toolCallId: child.forwarding.toolCallId,
        agent: child.forwarding.agent,
        state: last && child.finalState ? child.finalState : 'running',
        text: textOf(childChunks.slice(0, forwarded + end)),
        fromIndex: forwarded + start,
        toIndex: forwarded + end,
        chunks: fresh.slice(start, end),
      },
    });
  }
  return parts;
}

/** The text a reader of these chunks (from index 0) would show: text deltas, superseded ones left out. */
function textOf(chunks: readonly UIMessageChunk[]): string {
  let text = '';
  for (const chunk of discardSupersededChunks(chunks)) if (chunk.type === 'text-delta') text += chunk.delta;
  return text;
}
