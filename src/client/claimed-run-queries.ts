// The one path between an execution of a claimed run and its checkpoints. absurd-sdk's steps, events
// and heartbeats reach the database through it (the client's connection hands it every statement
// sent from the execution), and so do the agent layer's model, tool, MCP and approval checkpoints
// (through `findCheckpoint`, or through absurd-sdk's steps). It knows what the execution loaded and
// wrote, and follows the lease, so one rule answers "is there a checkpoint named n?":
//
//   A checkpoint the execution loaded or wrote is answered from memory. A name it has not seen has no
//   checkpoint only while the run's lease certainly holds: until the lease expires no later attempt
//   can exist, and only a later attempt could have written one. Past that point the database answers,
//   so an execution that outlived its lease finds (and replays) what a newer attempt completed rather
//   than calling a model or running a side effect again.
//
// The load at the start of an execution also reads through the queue's inlinable replay function
// (migration 0003) instead of get_task_checkpoint_states, whose PL/pgSQL layers copy every row twice.
//
// The lease is tracked from the client's side: it starts when the claim is sent and each checkpoint
// write or heartbeat moves it to "sent + extension". The server computes the same deadlines from a
// clock read after the statement arrives, so the client's deadline is never the later one.
import { createHash } from 'node:crypto';
import type { ClaimedTask } from 'absurd-sdk';
import type { Queryable } from '../db/database.ts';
import { awaitedCheckpoint, classifySdkStatement, lookupResult, type SdkCheckpointRow } from './absurd-sdk-adapter.ts';

/** A checkpoint this execution wrote: the JSON text it sent (parsed when first read), or its state. */
type WrittenCheckpoint = { readonly text: string | null } | { readonly state: unknown };

/** What one execution of a claimed run knows about its own checkpoints and lease. */
export interface ClaimedRun {
  readonly task: ClaimedTask;
  /** The checkpoints loaded when the execution started (name → state), once loaded. */
  checkpoints?: Map<string, unknown>;
  /** Checkpoints written since the load; `'ask'` marks a name only the database can answer for. */
  readonly written: Map<string, WrittenCheckpoint | 'ask'>;
  /** `performance.now()` before which the lease certainly holds; `Infinity` for a run without lease. */
  leaseHeldUntil: number;
}

const claimSentAt = new WeakMap<ClaimedTask, number>();

/** Records when the claim that returned these tasks was sent, the start of each one's lease. */
export function rememberClaimTime(tasks: readonly ClaimedTask[], sentAt: number): void {
  for (const task of tasks) claimSentAt.set(task, sentAt);
}

/**
 * What an execution of `task` knows as it starts: nothing loaded yet, and the lease from the claim.
 * A run claimed elsewhere (unknown claim time) gets no lease it can rely on, so each of its questions
 * goes to the database; a run claimed without a lease (timeout 0) never expires.
 */
export function startClaimedRun(task: ClaimedTask, claimTimeout: number): ClaimedRun {
  const sentAt = claimSentAt.get(task);
  const leaseHeldUntil = !(claimTimeout > 0)
    ? Number.POSITIVE_INFINITY
    : sentAt === undefined
      ? Number.NEGATIVE_INFINITY
      : sentAt + claimTimeout * 1000;
  return { task, written: new Map(), leaseHeldUntil };
}

/** The checkpoint `name` of the run's task as memory knows it: found, certainly absent, or a question for the database. */
function knownCheckpoint(run: ClaimedRun, name: string): { readonly state: unknown } | 'absent' | 'ask' {
  const written = run.written.get(name);
  if (written === 'ask') return 'ask';
  if (written !== undefined) {
    if ('state' in written) return written;
    const parsed = { state: written.text === null ? null : JSON.parse(written.text) };
    run.written.set(name, parsed);
    return parsed;
  }
  if (run.checkpoints === undefined) return 'ask';
  if (run.checkpoints.has(name)) return { state: run.checkpoints.get(name) };
  return performance.now() < run.leaseHeldUntil ? 'absent' : 'ask';
}

/**
 * The checkpoint `name` of a task (its state), or undefined when it has none, by the rule above for
 * the execution `run`. A name the database finds is remembered; a name it does not find is asked
 * again next time. Without a claimed run nothing is known, and the database answers.
 */
export async function findCheckpoint(
  run: ClaimedRun | undefined,
  database: Queryable,
  target: { readonly queueName: string; readonly taskID: string },
  name: string,
): Promise<{ readonly state: unknown } | undefined> {
  const known = run ? knownCheckpoint(run, name) : 'ask';
  if (known !== 'ask') return known === 'absent' ? undefined : known;
  const { rows } = await database.query<SdkCheckpointRow>(
    'select checkpoint_name, state from absurd.get_task_checkpoint_state($1, $2, $3)',
    [target.queueName, target.taskID, name],
  );
  if (rows.length === 0) return undefined;
  const found = { state: rows[0]!.state };
  run?.written.set(name, found);
  return found;
}

/**
 * Runs one of absurd-sdk's statements on behalf of the execution `run`: answers its lookups by the
 * rule above, rewrites its load, and follows what it writes and how it renews the lease. Everything
 * else, and every statement about another task or run, goes to the database unchanged.
 */
export async function queryForClaimedRun(
  run: ClaimedRun,
  database: Queryable,
  text: string,
  params: unknown[] | undefined,
): Promise<{ rows: any[] }> {
  const statement = classifySdkStatement(text, params);
  const { task_id: taskID, run_id: runID } = run.task;
  if (statement.kind === 'load' && statement.taskID === taskID && statement.runID === runID) {
    const result = await database.query<SdkCheckpointRow>(
      `select checkpoint_name, state from absurd.${replayFunctionName(statement.queueName)}($1, $2)`,
      [taskID, runID],
    );
    run.checkpoints ??= new Map(result.rows.map((row) => [row.checkpoint_name, row.state]));
    return result;
  }
  if (statement.kind === 'lookup' && statement.taskID === taskID) {
    const known = knownCheckpoint(run, statement.checkpointName);
    if (known !== 'ask') return lookupResult(statement.checkpointName, known === 'absent' ? undefined : known);
  }
  const sentAt = performance.now();
  const result = await database.query(text, params);
  if (statement.kind === 'write' && statement.runID === runID) {
    if (statement.taskID === taskID) run.written.set(statement.checkpointName, { text: statement.stateText });
    extendLease(run, sentAt, statement.extension);
  } else if (statement.kind === 'heartbeat' && statement.runID === runID) {
    extendLease(run, sentAt, statement.extension);
  } else if (statement.kind === 'await' && statement.runID === runID && statement.taskID === taskID) {
    const awaited = awaitedCheckpoint(result.rows);
    if (awaited !== 'none') run.written.set(statement.checkpointName, awaited === 'unknown' ? 'ask' : awaited);
  }
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
