import type { Command } from 'commander';
import { ConfigurationError } from '../../errors/configuration-error.ts';
import { withClient, withDatabaseOption } from '../database-option.ts';
import { requireTask } from '../require-task.ts';
import { suggestCommand } from '../suggest-command.ts';

/** `cancel <taskID>`: stops a task that has not finished; a running attempt stops at its next checkpoint. */
export function registerCancelCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('cancel <taskID>')
      .description('cancel a pending, running or sleeping task (a running attempt stops at its next checkpoint or heartbeat)')
      .option('--queue <name>', 'look only in this queue')
      .option('--json', 'print JSON'),
  ).action(async (taskID: string, options: { db?: string; queue?: string; json?: boolean }) => {
    await withClient(options, async (absurd) => {
      const task = await requireTask(absurd.database, taskID, options);
      if (task.state === 'completed' || task.state === 'failed') {
        throw new ConfigurationError({
          setting: 'taskID',
          message: `Task ${taskID} has already ${task.state}; only pending, running or sleeping tasks can be cancelled.`,
        });
      }
      const alreadyCancelled = task.state === 'cancelled';
      if (!alreadyCancelled) await absurd.cancelTask(taskID, task.queueName);
      if (options.json) {
        console.log(JSON.stringify({ taskID, queueName: task.queueName, previousState: task.state, state: 'cancelled' }, null, 2));
        return;
      }
      console.log(
        alreadyCancelled
          ? `Task ${taskID} (queue "${task.queueName}") was already cancelled; nothing changed.`
          : `Cancelled task ${taskID} ("${task.taskName}", queue "${task.queueName}", was ${task.state}).` +
              (task.state === 'running' ? ' Its running attempt stops at its next checkpoint or heartbeat.' : ''),
      );
      console.log(`See it: ${suggestCommand(['show', taskID], options)}`);
    });
  });
}
