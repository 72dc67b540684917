import type { Command } from 'commander';
import { listPendingApprovals, decideToolCall } from '../../approvals/approval-store.ts';
import { openDatabase } from '../../db/open-database.ts';
import type { Database } from '../../db/database.ts';
import { resolveDatabaseUrl, withDatabaseOption } from '../database-option.ts';

/** `approvals`, `approve` and `deny`: deciding tool calls that wait for a person, across every queue. */
export function registerApprovalCommands(program: Command): void {
  withDatabaseOption(
    program
      .command('approvals')
      .description('list tool calls waiting for approval (every queue unless --queue is given)')
      .option('--queue <name>', 'only this queue')
      .option('--task <taskID>', 'only this task')
      .option('--json', 'print JSON'),
  ).action(async (options: { db?: string; queue?: string; task?: string; json?: boolean }) => {
    await withDatabase(options, async (database) => {
      const pending = await listPendingApprovals(database, { queue: options.queue, taskID: options.task });
      if (options.json) {
        console.log(JSON.stringify(pending, null, 2));
        return;
      }
      if (pending.length === 0) {
        console.log('No tool calls are waiting for approval.');
        return;
      }
      for (const approval of pending) {
        console.log(
          `${approval.taskID}  ${approval.toolCallId}  ${approval.toolName}  request=${approval.requestId}  ` +
            `queue=${approval.queueName}  requested=${approval.requestedAt.toISOString()}  ` +
            `expires=${approval.expiresAt?.toISOString() ?? 'never'}`,
        );
        console.log(`    input: ${JSON.stringify(approval.input)}`);
      }
      console.log(
        '\nDecide with: npx ai-sdk-absurd approve <taskID> <toolCallId>  |  deny <taskID> <toolCallId> --reason "..."' +
          '\n(a tool call id that several waiting calls of the task share: give the request id instead)',
      );
    });
  });

  for (const verb of ['approve', 'deny'] as const) {
    withDatabaseOption(
      program
        .command(`${verb} <taskID> <toolCallId>`)
        .description(
          `${verb} a waiting tool call (by its tool call id, or its request id as \`approvals\` lists it); ` +
            'its task resumes once every call it waits for is decided',
        )
        .option('--reason <text>', 'why (shown to the model)'),
    ).action(async (taskID: string, toolCallId: string, options: { db?: string; reason?: string }) => {
      await withDatabase(options, async (database) => {
        const decision = await decideToolCall(database, {
          taskID,
          toolCallId,
          approved: verb === 'approve',
          reason: options.reason,
        });
        console.log(
          `${decision.approved ? 'Approved' : 'Denied'} tool call ${toolCallId} of task ${taskID}` +
            `${decision.reason ? ` (${decision.reason})` : ''}; the task resumes once every call it waits for is decided.`,
        );
      });
    });
  }
}

async function withDatabase<T>(options: { db?: string }, fn: (database: Database) => Promise<T>): Promise<T> {
  const { database } = openDatabase(resolveDatabaseUrl(options));
  try {
    await database.ready();
    return await fn(database);
  } finally {
    await database.close();
  }
}
