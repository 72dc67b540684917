import type { Command } from 'commander';
import type { Queryable } from '../../db/database.ts';
import { withClient, withDatabaseOption } from '../database-option.ts';
import { parseDuration } from '../parse-arguments.ts';
import { queuesToRead } from '../../history/task-history.ts';

/** Rows deleted per call; the command repeats the call until a batch comes back short. */
const batchSize = 1000;

export interface QueueCleanup {
  readonly queueName: string;
  readonly ttlSeconds: number;
  readonly tasksDeleted: number;
  readonly eventsDeleted: number;
}

/** `cleanup`: deletes finished tasks (with their runs, checkpoints and streams) and events older than a ttl. */
export function registerCleanupCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('cleanup')
      .description("delete completed, failed and cancelled tasks and emitted events older than --ttl (default: each queue's cleanup_ttl)")
      .option('--queue <name>', 'only this queue (default: every queue)')
      .option('--ttl <duration>', 'age after which finished tasks go, e.g. 3600, 90m, 12h, 7d, 2w; 0 removes every finished task', parseDuration)
      .option('--json', 'print JSON'),
  ).action(async (options: { db?: string; queue?: string; ttl?: number; json?: boolean }) => {
    await withClient(options, async (absurd) => {
      const results: QueueCleanup[] = [];
      for (const queueName of await queuesToRead(absurd.database, options.queue)) {
        results.push(await cleanupQueue(absurd.database, queueName, options.ttl));
      }
      if (options.json) {
        console.log(JSON.stringify(results, null, 2));
        return;
      }
      if (results.length === 0) console.log('No queues, nothing to clean up.');
      for (const result of results) {
        console.log(
          `queue "${result.queueName}": deleted ${result.tasksDeleted} finished task${result.tasksDeleted === 1 ? '' : 's'} and ` +
            `${result.eventsDeleted} event${result.eventsDeleted === 1 ? '' : 's'} older than ${describeSeconds(result.ttlSeconds)}.`,
        );
      }
    });
  });
}

/** Deletes in batches until none is left; without a ttl, the queue's own cleanup_ttl policy applies. */
async function cleanupQueue(database: Queryable, queueName: string, ttlSeconds: number | undefined): Promise<QueueCleanup> {
  const ttl = ttlSeconds ?? (await queueCleanupTtl(database, queueName));
  const drain = async (sqlFunction: 'cleanup_tasks' | 'cleanup_events') => {
    let total = 0;
    for (;;) {
      const { rows } = await database.query<{ deleted: number }>(`select absurd.${sqlFunction}($1, $2, $3) as deleted`, [queueName, ttl, batchSize]);
      const deleted = rows[0]?.deleted ?? 0;
      total += deleted;
      if (deleted < batchSize) return total;
    }
  };
  const tasksDeleted = await drain('cleanup_tasks');
  const eventsDeleted = await drain('cleanup_events');
  return { queueName, ttlSeconds: ttl, tasksDeleted, eventsDeleted };
}

async function queueCleanupTtl(database: Queryable, queueName: string): Promise<number> {
  const { rows } = await database.query<{ ttl_seconds: number }>(
    'select least(extract(epoch from cleanup_ttl), 2147483647)::integer as ttl_seconds from absurd.queues where queue_name = $1',
    [queueName],
  );
  return rows[0]?.ttl_seconds ?? 30 * 86_400;
}

/** `7 days`, `12 hours`, `90 minutes`, `45 seconds`: the largest unit that divides the ttl exactly. */
function describeSeconds(seconds: number): string {
  for (const [unit, size] of [['day', 86_400], ['hour', 3600], ['minute', 60]] as const) {
    if (seconds > 0 && seconds % size === 0) return `${seconds / size} ${unit}${seconds === size ? '' : 's'}`;
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
