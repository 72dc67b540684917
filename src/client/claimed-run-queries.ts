// absurd-sdk asks the database two questions that the client which claimed a run can answer more
// cheaply than the general stored functions:
//
// - The checkpoint load when a run starts. It reads through the queue's inlinable replay function
//   (migration 0003) instead of get_task_checkpoint_states, whose PL/pgSQL layers copy every row
//   twice, and fetches only the names and states, the only columns absurd-sdk reads.
// - A step's cache-miss lookup. Once the load is done, the only other writer a checkpoint of this
//   task can have is a later attempt, and a later attempt exists only once this run's lease has
//   expired. While the lease certainly holds, a name missing from the load (and from what this
//   execution wrote, which absurd-sdk caches itself) has no checkpoint, so the lookup is answered
//   without a round trip. Past that point the lookup goes to the database as before.
//
// The lease is tracked from the client's side: it starts when the claim is sent and each checkpoint
// write or heartbeat moves it to "sent + extension". The server computes the same deadlines from a
// clock read after the statement arrives, so the client's deadline is never the later one.
import { createHash } from 'node:crypto';
import type { ClaimedTask } from 'absurd-sdk';
import type { Queryable } from '../db/database.ts';

/** What one execution of a claimed run knows about its own checkpoints and lease. */
export interface ClaimedRun {
  readonly task: ClaimedTask;
  /** The checkpoints loaded when the execution started (name → state), once loaded. */
  checkpoints?: Map<string, unknown>;
  /** `performance.now()` before which the lease certainly holds; `Infinity` for a run without lease. */
  leaseHeldUntil: number;
}

const claimSentAt = new WeakMap<ClaimedTask, number>();

/** Records when the claim that returned these tasks was sent, the start of each one's lease. */
export function rememberClaimTime(tasks: readonly ClaimedTask[], sentAt: number): void {
  for (const task of tasks) claimSentAt.set(task, sentAt);
}

/**
 * The lease deadline of a run as its execution starts. A run claimed elsewhere (unknown claim time)
 * gets none, so each of its lookups goes to the database.
 */
export function initialLeaseDeadline(task: ClaimedTask, claimTimeout: number): number {
  if (!(claimTimeout > 0)) return Number.POSITIVE_INFINITY;
  const sentAt = claimSentAt.get(task);
  return sentAt === undefined ? Number.NEGATIVE_INFINITY : sentAt + claimTimeout * 1000;
}

const loadCall = 'absurd.get_task_checkpoint_states(';
const lookupCall = 'absurd.get_task_checkpoint_state(';
const writeCall = 'absurd.set_task_checkpoint_state(';
const heartbeatCall = 'absurd.extend_claim(';

/**
 * Runs one of absurd-sdk's statements on behalf of the execution `run`: answers or rewrites the
 * two questions above and follows the lease through writes and heartbeats. Everything else, and
 * every statement about another task or run, goes to the database unchanged.
 */
export async function queryForClaimedRun(
  run: ClaimedRun,
  database: Queryable,
  text: string,
  params: unknown[] | undefined,
): Promise<{ rows: any[] }> {
  const values = params ?? [];
  if (text.includes(loadCall) && values[1] === run.task.task_id && values[2] === run.task.run_id) {
    const result = await database.query(
      `select checkpoint_name, state from absurd.${replayFunctionName(String(values[0]))}($1, $2)`,
      [run.task.task_id, run.task.run_id],
    );
    run.checkpoints ??= new Map(result.rows.map((row) => [row.checkpoint_name, row.state]));
    return result;
  }
  if (
    text.includes(lookupCall) &&
    values[1] === run.task.task_id &&
    run.checkpoints !== undefined &&
    !run.checkpoints.has(String(values[2])) &&
    performance.now() < run.leaseHeldUntil
  ) {
    return { rows: [] };
  }
  const sentAt = performance.now();
  const result = await database.query(text, params);
  if (text.includes(writeCall) && values[4] === run.task.run_id) extendLease(run, sentAt, values[5]);
  else if (text.includes(heartbeatCall) && values[1] === run.task.run_id) extendLease(run, sentAt, values[2]);
  return result;
}

// The schema moves a live lease to "now + extension", never further, and leaves it when the
// extension is missing or zero.
function extendLease(run: ClaimedRun, sentAt: number, extension: unknown): void {
  const seconds = Number(extension); // null gives 0 and undefined NaN: no extension either way
  if (seconds > 0 && run.leaseHeldUntil !== Number.POSITIVE_INFINITY) {
    run.leaseHeldUntil = sentAt + seconds * 1000;
  }
}

/** The queue's generated replay function, named as `absurd.queue_function_name(queue, 'replay')` names it. */
export function replayFunctionName(queueName: string): string {
  return `q${createHash('md5').update(queueName).digest('hex').slice(0, 24)}_replay`;
}
