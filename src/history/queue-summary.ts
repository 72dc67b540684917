// What `ai-sdk-absurd queues` reports: each queue of `absurd.queues` with its tasks counted by state.
import type { Queryable } from '../db/database.ts';
import { queueTable } from '../db/queue-table.ts';
import { queuesToRead } from './task-history.ts';

export const taskStates = ['pending', 'running', 'sleeping', 'completed', 'failed', 'cancelled'] as const;
export type TaskState = (typeof taskStates)[number];

export interface QueueSummary {
  readonly queueName: string;
  /** Tasks per state; every state is present, 0 when the queue has none. */
  readonly tasks: Readonly<Record<TaskState, number>>;
  readonly totalTasks: number;
  /** When the oldest pending task was enqueued: how far behind the workers are. */
  readonly oldestPendingAt: Date | null;
}

/** Every queue (or only `queue`, which must exist) with its tasks counted by state, in name order. */
export async function listQueueSummaries(database: Queryable, options: { queue?: string } = {}): Promise<QueueSummary[]> {
  const names = await queuesToRead(database, options.queue);
  const summaries: QueueSummary[] = [];
  for (const queueName of names) {
    const { rows } = await database.query<{ state: string; tasks: number; oldest_pending_at: Date | null }>(
      `select state, count(*)::integer as tasks, min(enqueue_at) filter (where state = 'pending') as oldest_pending_at
       from ${queueTable('t', queueName)} group by state`,
    );
    const tasks = Object.fromEntries(taskStates.map((state) => [state, 0])) as Record<TaskState, number>;
    let oldestPendingAt: Date | null = null;
    for (const row of rows) {
      if ((taskStates as readonly string[]).includes(row.state)) tasks[row.state as TaskState] = row.tasks;
      oldestPendingAt ??= row.oldest_pending_at;
    }
    summaries.push({ queueName, tasks, totalTasks: rows.reduce((total, row) => total + row.tasks, 0), oldestPendingAt });
  }
  return summaries;
}
