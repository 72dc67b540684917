import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClaimedTask, TaskContext } from 'absurd-sdk';
import type { Database } from '../db/database.ts';
import { startClaimedRun, type ClaimedRun } from './claimed-run-queries.ts';

/**
 * What the layers below the client reach of the Absurd client that runs a task: its database and its
 * queue. (It is the `Absurd` instance; the package entry point types it so.)
 */
export interface TaskClient {
  readonly database: Database;
  readonly queue: string;
}

/** What the agent layer knows about the Absurd task whose handler is running. */
export interface CurrentTask {
  readonly absurd: TaskClient;
  readonly ctx: TaskContext;
  readonly taskID: string;
  readonly runID: string;
  readonly attempt: number;
  readonly taskName: string;
  readonly queueName: string;
  /** The lease in seconds that each checkpoint write or heartbeat renews. */
  readonly claimTimeout: number;
  /**
   * The checkpoints this run could replay when it started, as absurd-sdk loaded them (name → state),
   * so other layers need not load them again.
   */
  readonly initialCheckpoints: ReadonlyMap<string, unknown> | undefined;
  /** Scratch space for this one execution of the handler (e.g. counters behind deterministic step names). */
  readonly state: Map<string, unknown>;
}

const currentTaskStorage = new AsyncLocalStorage<CurrentTask>();
interface ClaimedExecution extends ClaimedRun {
  readonly absurd: TaskClient;
  readonly claimTimeout: number;
}

const claimedTaskStorage = new AsyncLocalStorage<ClaimedExecution>();

/** The task whose handler is running in this async context, if any. */
export function getCurrentTask(): CurrentTask | undefined {
  return currentTaskStorage.getStore();
}

/** Runs a claimed task's execution with its claim visible to `runWithTaskContext`. */
export function runWithClaimedTask<T>(
  absurd: TaskClient,
  task: ClaimedTask,
  claimTimeout: number,
  execute: () => Promise<T>,
): Promise<T> {
  const execution: ClaimedExecution = Object.assign(startClaimedRun(task, claimTimeout), { absurd, claimTimeout });
  return claimedTaskStorage.run(execution, execute);
}

/** The claimed run whose execution is running in this async context, if any. */
export function getClaimedRun(): ClaimedRun | undefined {
  return claimedTaskStorage.getStore();
}

const claimedRuns = new WeakMap<CurrentTask, ClaimedRun>();

/** The claimed run behind a current task: what its execution loaded and wrote, and its lease. */
export function claimedRunOf(task: CurrentTask): ClaimedRun | undefined {
  return claimedRuns.get(task);
}

/** Makes `ctx` the current task for everything `execute` does, including code in other modules. */
export function runWithTaskContext<T>(ctx: TaskContext, execute: () => Promise<T>): Promise<T> {
  const claimed = claimedTaskStorage.getStore();
  if (!claimed) return execute();
  const current: CurrentTask = {
    absurd: claimed.absurd,
    ctx,
    taskID: claimed.task.task_id,
    runID: claimed.task.run_id,
    attempt: claimed.task.attempt,
    taskName: claimed.task.task_name,
    queueName: claimed.absurd.queue,
    claimTimeout: claimed.claimTimeout,
    initialCheckpoints: claimed.checkpoints,
    state: new Map(),
  };
  claimedRuns.set(current, claimed);
  return currentTaskStorage.run(current, async () => {
    try {
      return await execute();
    } finally {
      endExecution(current);
    }
  });
}

const executionEndKey = 'ai-sdk-absurd:execution-end';

/**
 * Registers `cleanup` to run once the handler execution of `task` has settled, so that nothing it
 * started (a lease-renewal timer) outlives it. Registered after the end, it runs at once.
 */
export function onExecutionEnd(task: CurrentTask, cleanup: () => void): void {
  const cleanups = task.state.get(executionEndKey) as Set<() => void> | 'ended' | undefined;
  if (cleanups === 'ended') {
    cleanup();
    return;
  }
  if (cleanups) cleanups.add(cleanup);
  else task.state.set(executionEndKey, new Set([cleanup]));
}

function endExecution(task: CurrentTask): void {
  const cleanups = task.state.get(executionEndKey) as Set<() => void> | 'ended' | undefined;
  task.state.set(executionEndKey, 'ended');
  if (cleanups === undefined || cleanups === 'ended') return;
  for (const cleanup of cleanups) cleanup();
}

const taskFailureKey = 'ai-sdk-absurd:task-failure';

/**
 * Records an error that must fail this execution even if the handler then returns normally (for
 * example a durable stream that failed while the handler only read part of it). The first one wins.
 */
export function recordTaskFailure(task: CurrentTask, error: unknown): void {
  if (!task.state.has(taskFailureKey)) task.state.set(taskFailureKey, { error });
}

/** The first error recorded with `recordTaskFailure` in this execution, if any. */
export function recordedTaskFailure(task: CurrentTask): { readonly error: unknown } | undefined {
  return task.state.get(taskFailureKey) as { readonly error: unknown } | undefined;
}
