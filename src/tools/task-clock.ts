// The database's clock and the run's wake-up time, for tools that suspend their task. Time comes from
// absurd.current_time(), so waits follow the same clock as Absurd (including a faked one in tests).
import type { CurrentTask } from '../client/current-task.ts';
import { beginCheckpoint, completeCheckpoint } from '../agent/checkpoint-store.ts';

/** The current time as the database sees it. */
export async function databaseNow(task: CurrentTask): Promise<Date> {
  const { rows } = await task.absurd.database.query<{ now: Date | string }>('select absurd.current_time() as now');
  return new Date(rows[0]!.now);
}

/** Puts the run to sleep until `wakeAt`; the caller then throws SuspendTask so the worker lets it go. */
export async function scheduleRunAt(task: CurrentTask, wakeAt: Date): Promise<void> {
  await task.absurd.database.query('select absurd.schedule_run($1, $2::uuid, $3::timestamptz)', [
    task.queueName,
    task.runID,
    wakeAt.toISOString(),
  ]);
}

/** The value checkpointed under `name`, computed and written the first time only. */
export async function recordOnce<T>(task: CurrentTask, name: string, compute: () => T | Promise<T>): Promise<T> {
  const handle = await beginCheckpoint(task, name);
  if (handle.done) return handle.state as T;
  const value = await compute();
  await completeCheckpoint(task, handle, value);
  return value;
}
