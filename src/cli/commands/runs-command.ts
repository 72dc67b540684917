import { Option, type Command } from 'commander';
import { withClient, withDatabaseOption } from '../database-option.ts';
import { formatCount, formatTable, formatTime } from '../format-output.ts';
import { parsePositiveInteger } from '../parse-arguments.ts';
import { suggestCommand } from '../suggest-command.ts';
import { taskStates } from '../../history/queue-summary.ts';
import { listRecentTasks } from '../../history/task-history.ts';

/** `runs`: the most recent tasks with their state, attempts, model calls and tokens. */
export function registerRunsCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('runs')
      .description('list recent tasks (every queue unless --queue is given): state, attempts, model calls, tokens')
      .option('--queue <name>', 'only this queue')
      .addOption(new Option('--state <state>', 'only tasks in this state').choices([...taskStates]))
      .option('--limit <n>', 'how many tasks to list', parsePositiveInteger, 20)
      .option('--json', 'print JSON'),
  ).action(async (options: { db?: string; queue?: string; state?: string; limit: number; json?: boolean }) => {
    await withClient(options, async (absurd) => {
      const tasks = await listRecentTasks(absurd.database, options);
      if (options.json) {
        console.log(JSON.stringify(tasks, null, 2));
        return;
      }
      if (tasks.length === 0) {
        console.log(`No tasks${options.queue ? ` in queue "${options.queue}"` : ''}${options.state ? ` in state ${options.state}` : ''}.`);
        if (options.state) console.log(`All states: ${suggestCommand(['runs'], options)}`);
        return;
      }
      const rows = tasks.map((task) => [
        task.taskID,
        task.queueName,
        task.taskName,
        task.state,
        String(task.attempts),
        String(task.modelCalls),
        String(task.toolCalls),
        `${formatCount(task.inputTokens)} / ${formatCount(task.outputTokens)}`,
        formatTime(task.enqueuedAt),
      ]);
      console.log(
        formatTable([['TASK ID', 'QUEUE', 'TASK', 'STATE', 'ATTEMPTS', 'MODEL CALLS', 'TOOL CALLS', 'TOKENS IN / OUT', 'ENQUEUED (UTC)'], ...rows]),
      );
      console.log(`\nSee one run in detail: ${suggestCommand(['show', tasks[0]!.taskID], options)}`);
    });
  });
}
