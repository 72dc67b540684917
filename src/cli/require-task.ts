import type { Queryable } from '../db/database.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { suggestCommand } from './suggest-command.ts';
import { locateTask, type TaskLocation } from '../history/task-history.ts';

/** The error of a command given a task id that no queue (or not the queue given) holds. */
export function taskNotFoundError(taskID: string, context: { db?: string; queue?: string }): ConfigurationError {
  return new ConfigurationError({
    setting: 'taskID',
    message:
      `No task ${taskID} in ${context.queue ? `queue "${context.queue}"` : 'any queue'}. ` +
      `List tasks with: ${suggestCommand(['runs'], context)}`,
  });
}

/** The task a command acts on, found in any queue (or in `queue`); throws when there is none. */
export async function requireTask(
  database: Queryable,
  taskID: string,
  context: { db?: string; queue?: string },
): Promise<TaskLocation> {
  const task = await locateTask(database, taskID, { queue: context.queue });
  if (!task) throw taskNotFoundError(taskID, context);
  return task;
}
