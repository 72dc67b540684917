import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { forkTask } from '../../client/fork-task.ts';
import { withClient, withDatabaseOption } from '../database-option.ts';
import { requireTask } from '../require-task.ts';
import { suggestCommand } from '../suggest-command.ts';

/** `fork <taskID> --from <n>`: a new task that starts with the first n checkpoints of another and runs live from there. */
export function registerForkCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('fork <taskID>')
      .description('spawn a new task that replays the first <n> checkpoints of a task (as `show` numbers them) and runs live from there')
      .requiredOption('--from <n>', 'how many checkpoints to keep (0 keeps none), or the name of the last one to keep', parseForkPoint)
      .option('--params <json>', 'params of the new task as JSON (default: the source task params)', parseParams)
      .option('--queue <name>', 'look only in this queue')
      .option('--json', 'print JSON'),
  ).action(
    async (taskID: string, options: { db?: string; queue?: string; json?: boolean; from: number | string; params?: unknown }) => {
      await withClient(options, async (absurd) => {
        const task = await requireTask(absurd.database, taskID, options);
        const fork = await forkTask(absurd.database, task.queueName, taskID, {
          fromCheckpoint: options.from,
          ...(options.params === undefined ? {} : { params: options.params as never }),
        });
        if (options.json) {
          console.log(JSON.stringify({ ...fork, queueName: task.queueName }, null, 2));
          return;
        }
        const kept = fork.copiedCheckpoints.length;
        console.log(
          `Forked task ${taskID} ("${task.taskName}", queue "${task.queueName}") as ${fork.taskID}, ` +
            `keeping ${kept} checkpoint${kept === 1 ? '' : 's'}${kept > 0 ? ` (up to ${fork.forkedFrom.checkpointName})` : ''}. ` +
            'A worker of that queue runs it.',
        );
        console.log(`See it: ${suggestCommand(['show', fork.taskID], options)}`);
      });
    },
  );
}

function parseForkPoint(value: string): number | string {
  if (/^\d+$/.test(value)) return Number.parseInt(value, 10);
  if (value.trim() === '' || /^-/.test(value)) {
    throw new InvalidArgumentError('expected a number of checkpoints (0 or more) or a checkpoint name');
  }
  return value;
}

function parseParams(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message})`);
  }
}
