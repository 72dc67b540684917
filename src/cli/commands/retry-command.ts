import type { Command } from 'commander';
import { ConfigurationError } from '../../errors/configuration-error.ts';
import { withClient, withDatabaseOption } from '../database-option.ts';
import { parsePositiveInteger } from '../parse-arguments.ts';
import { requireTask } from '../require-task.ts';
import { suggestCommand } from '../suggest-command.ts';

interface RetryCommandOptions {
  db?: string;
  queue?: string;
  newTask?: boolean;
  maxAttempts?: number;
  json?: boolean;
}

/**
 * `retry <taskID>`: runs a failed task again, in place (a new attempt that replays the checkpoints already written)
 * or, with `--new-task`, as a new task with the same params that starts from scratch.
 */
export function registerRetryCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('retry <taskID>')
      .description('run a failed task again: a new attempt that replays its checkpoints, or with --new-task a fresh task')
      .option('--queue <name>', 'look only in this queue')
      .option('--new-task', 'spawn a new task with the same params instead (no checkpoints carried over)')
      .option('--max-attempts <n>', 'attempt limit from now on (in place: more than the attempts made; default one more)', parsePositiveInteger)
      .option('--json', 'print JSON'),
  ).action(async (taskID: string, options: RetryCommandOptions) => {
    await withClient(options, async (absurd) => {
      const task = await requireTask(absurd.database, taskID, options);
      if (task.state !== 'failed') {
        throw new ConfigurationError({
          setting: 'taskID',
          message:
            `Task ${taskID} is ${task.state}; only failed tasks can be retried` +
            (['pending', 'running', 'sleeping'].includes(task.state) ? ' (this one has not finished).' : '.'),
        });
      }
      if (!options.newTask && options.maxAttempts !== undefined && options.maxAttempts <= task.attempts) {
        throw new ConfigurationError({
          setting: 'maxAttempts',
          message:
            `--max-attempts ${options.maxAttempts} is not more than the ${task.attempts} attempts task ${taskID} has made. ` +
            `Pass --max-attempts ${task.attempts + 1} or more, or leave it out for one more attempt.`,
        });
      }
      const retried = await absurd.retryTask(taskID, {
        queue: task.queueName,
        maxAttempts: options.maxAttempts,
        spawnNewTask: options.newTask ?? false,
      });
      if (options.json) {
        console.log(
          JSON.stringify(
            { taskID: retried.taskID, queueName: task.queueName, retriedTaskID: taskID, newTask: options.newTask ?? false, runID: retried.runID, attempt: retried.attempt },
            null,
            2,
          ),
        );
        return;
      }
      console.log(
        options.newTask
          ? `Spawned task ${retried.taskID} (queue "${task.queueName}") with the params of failed task ${taskID}; it starts from scratch.`
          : `Task ${taskID} (queue "${task.queueName}") will run again as attempt ${retried.attempt} on the next free worker; ` +
              'the checkpoints of earlier attempts are replayed, so finished model and tool calls are not repeated.',
      );
      console.log(`Follow it: ${suggestCommand(['show', retried.taskID], options)}`);
    });
  });
}
