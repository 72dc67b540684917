// A new task that starts where another task's run stood at one of its checkpoints: the checkpoints up
// to that point are copied (so their model calls and tool results replay, paying nothing again) and
// the task runs live from there. The copy and the spawn are one transaction, so no worker sees a half.
import type { JsonValue } from 'absurd-sdk';
import type { Database, Queryable } from '../db/database.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { queueTable } from '../db/queue-table.ts';
import { validateTaskID } from './task-id.ts';
import { validatePayload } from './validate-payload.ts';

export interface ForkTaskOptions {
  /**
   * Where the fork starts: the number of checkpoints to keep (in the order they were written, as
   * `ai-sdk-absurd show` numbers them; 0 keeps none), or the name of the last checkpoint to keep.
   */
  readonly fromCheckpoint: number | string;
  /** Params of the new task; default: the source task's params. */
  readonly params?: JsonValue;
  /** The queue of the source task (and of the fork); default: the client's queue. */
  readonly queue?: string;
}

export interface ForkTaskResult {
  readonly taskID: string;
  readonly runID: string;
  readonly attempt: number;
  /** The checkpoints the fork starts with, in order. */
  readonly copiedCheckpoints: readonly string[];
  readonly forkedFrom: ForkOrigin;
}

/** Where a forked task came from; stored with the fork as its checkpoint `forkOriginCheckpointName`. */
export interface ForkOrigin {
  readonly taskID: string;
  readonly checkpointName: string | null;
  readonly checkpointNumber: number;
}

/** The checkpoint of a forked task that records its origin (never read by a replay). */
export const forkOriginCheckpointName = 'ai-sdk-absurd:forked-from';

interface SourceTask {
  task_name: string;
  params: JsonValue;
  headers: Record<string, JsonValue> | null;
  retry_strategy: JsonValue | null;
  max_attempts: number | null;
  cancellation: JsonValue | null;
}

/** Spawns the fork of `taskID` in `queue`; see `Absurd.forkTask`. */
export async function forkTask(database: Database, queue: string, taskID: string, options: ForkTaskOptions): Promise<ForkTaskResult> {
  validateTaskID(taskID);
  if (options?.params !== undefined) validatePayload(options.params, { subject: 'The fork params' });
  return database.transaction(async (transaction) => {
    const source = await readSourceTask(transaction, queue, taskID);
    const checkpoints = await readCheckpointNames(transaction, queue, taskID);
    const kept = checkpoints.slice(0, forkPoint(options?.fromCheckpoint, checkpoints, taskID));
    const spawnOptions: Record<string, JsonValue> = {};
    if (source.headers) spawnOptions.headers = source.headers as JsonValue;
    if (source.retry_strategy) spawnOptions.retry_strategy = source.retry_strategy;
    if (source.max_attempts !== null) spawnOptions.max_attempts = source.max_attempts;
    if (source.cancellation) spawnOptions.cancellation = source.cancellation;
    const params = options.params === undefined ? source.params : options.params;
    const { rows } = await transaction.query<{ task_id: string; run_id: string; attempt: number }>(
      'select task_id::text, run_id::text, attempt from absurd.spawn_task($1, $2, $3::jsonb, $4::jsonb)',
      [queue, source.task_name, JSON.stringify(params ?? null), JSON.stringify(spawnOptions)],
    );
    const spawned = rows[0]!;
    const forkedFrom: ForkOrigin = { taskID, checkpointName: kept.at(-1) ?? null, checkpointNumber: kept.length };
    // Ownerless checkpoints are replayable by every attempt of the new task; the order of writing is kept.
    await transaction.query(
      `insert into ${queueTable('c', queue)} (task_id, checkpoint_name, state, status, owner_run_id, owner_attempt, updated_at)
       select $1::uuid, c.checkpoint_name, c.state, 'committed', null, null, c.updated_at
       from ${queueTable('c', queue)} c
       where c.task_id = $2::uuid and c.checkpoint_name = any($3::text[])`,
      [spawned.task_id, taskID, kept],
    );
    await transaction.query(
      `insert into ${queueTable('c', queue)} (task_id, checkpoint_name, state, status, owner_run_id, owner_attempt, updated_at)
       values ($1::uuid, $2, $3::jsonb, 'committed', null, null, absurd.current_time())`,
      [spawned.task_id, forkOriginCheckpointName, JSON.stringify(forkedFrom)],
    );
    return { taskID: spawned.task_id, runID: spawned.run_id, attempt: spawned.attempt, copiedCheckpoints: kept, forkedFrom };
  });
}

async function readSourceTask(query: Queryable, queue: string, taskID: string): Promise<SourceTask> {
  const { rows } = await query.query<SourceTask>(
    `select task_name, params, headers, retry_strategy, max_attempts, cancellation from ${queueTable('t', queue)} where task_id = $1::uuid`,
    [taskID],
  );
  if (rows.length === 0) {
    throw new ConfigurationError({
      setting: 'taskID',
      message: `forkTask: no task ${taskID} exists in queue "${queue}". Pass { queue } for a task of another queue.`,
    });
  }
  return rows[0]!;
}

/** Committed checkpoints in the order they were written, the same order `show` lists them in. */
async function readCheckpointNames(query: Queryable, queue: string, taskID: string): Promise<string[]> {
  const { rows } = await query.query<{ checkpoint_name: string }>(
    `select checkpoint_name from ${queueTable('c', queue)}
     where task_id = $1::uuid and status = 'committed' and checkpoint_name <> $2
     order by updated_at, checkpoint_name`,
    [taskID, forkOriginCheckpointName],
  );
  return rows.map((row) => row.checkpoint_name);
}

function forkPoint(fromCheckpoint: number | string | undefined, checkpoints: readonly string[], taskID: string): number {
  if (typeof fromCheckpoint === 'number' && Number.isInteger(fromCheckpoint) && fromCheckpoint >= 0) {
    if (fromCheckpoint > checkpoints.length) {
      throw new ConfigurationError({
        setting: 'fromCheckpoint',
        message: `forkTask: task ${taskID} has ${checkpoints.length} checkpoints, so fromCheckpoint ${fromCheckpoint} does not exist. Use a number from 0 to ${checkpoints.length} (see ai-sdk-absurd show ${taskID}).`,
      });
    }
    return fromCheckpoint;
  }
  if (typeof fromCheckpoint === 'string' && fromCheckpoint.length > 0) {
    const index = checkpoints.indexOf(fromCheckpoint);
    if (index < 0) {
      throw new ConfigurationError({
        setting: 'fromCheckpoint',
        message: `forkTask: task ${taskID} has no committed checkpoint named "${fromCheckpoint}". Use a number or a name that ai-sdk-absurd show ${taskID} lists.`,
      });
    }
    return index + 1;
  }
  throw new ConfigurationError({
    setting: 'fromCheckpoint',
    message: `forkTask: fromCheckpoint must be a whole number of checkpoints to keep (0 or more) or a checkpoint name; got ${JSON.stringify(fromCheckpoint)}.`,
  });
}
