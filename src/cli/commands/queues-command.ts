import type { Command } from 'commander';
import { withClient, withDatabaseOption } from '../database-option.ts';
import { formatTable, formatTime } from '../format-output.ts';
import { listQueueSummaries, taskStates } from '../../history/queue-summary.ts';
import { suggestCommand } from '../suggest-command.ts';

/** `queues`: every queue with its tasks counted by state. */
export function registerQueuesCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('queues')
      .description('list the queues with their tasks counted by state, and the oldest pending task')
      .option('--queue <name>', 'only this queue')
      .option('--json', 'print JSON'),
  ).action(async (options: { db?: string; queue?: string; json?: boolean }) => {
    await withClient(options, async (absurd) => {
      const queues = await listQueueSummaries(absurd.database, options);
      if (options.json) {
        console.log(JSON.stringify(queues, null, 2));
        return;
      }
      if (queues.length === 0) {
        console.log(`No queues. Create one with: ${suggestCommand(['init', '--queue', 'default'], { db: options.db })}`);
        return;
      }
      const header = ['QUEUE', ...taskStates.map((state) => state.toUpperCase()), 'OLDEST PENDING (UTC)'];
      const rows = queues.map((queue) => [
        queue.queueName,
        ...taskStates.map((state) => String(queue.tasks[state])),
        formatTime(queue.oldestPendingAt),
      ]);
      console.log(formatTable([header, ...rows]));
      console.log(`\nList a queue's tasks: ${suggestCommand(['runs', '--queue', queues[0]!.queueName], { db: options.db })}`);
    });
  });
}
