#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SchemaVersionError } from '../errors/schema-version-error.ts';
import { registerApprovalCommands } from './commands/approval-commands.ts';
import { registerCancelCommand } from './commands/cancel-command.ts';
import { registerCleanupCommand } from './commands/cleanup-command.ts';
import { registerDashboardCommand } from './commands/dashboard-command.ts';
import { registerDemoCommand } from './commands/demo-command.ts';
import { registerForkCommand } from './commands/fork-command.ts';
import { registerQueuesCommand } from './commands/queues-command.ts';
import { registerRetryCommand } from './commands/retry-command.ts';
import { registerRunsCommand } from './commands/runs-command.ts';
import { registerSchemaCommands } from './commands/schema-commands.ts';
import { registerShowCommand } from './commands/show-command.ts';
import { registerUsageCommand } from './commands/usage-command.ts';

/** Exit codes the CLI documents: 0 ok, 1 failure, 2 usage, 3 schema version. */
export const exitCodes = { ok: 0, failure: 1, usage: 2, schema: 3 } as const;

export function createProgram(): Command {
  const program = new Command('ai-sdk-absurd')
    .description('Durable Vercel AI SDK agents on Postgres: schema, queues and runs, cancel/retry/fork/cleanup, usage, approvals, a dashboard and a demo.')
    .version(packageVersion(), '-v, --version', 'print the version of ai-sdk-absurd')
    .showHelpAfterError()
    .exitOverride();
  registerSchemaCommands(program);
  registerQueuesCommand(program);
  registerRunsCommand(program);
  registerShowCommand(program);
  registerUsageCommand(program);
  registerCancelCommand(program);
  registerRetryCommand(program);
  registerForkCommand(program);
  registerCleanupCommand(program);
  registerApprovalCommands(program);
  registerDashboardCommand(program);
  registerDemoCommand(program);
  return program;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return exitCodes.ok;
      }
      return exitCodes.usage;
    }
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.AI_SDK_ABSURD_DEBUG && error instanceof Error) console.error(error.stack);
    if (SchemaVersionError.isInstance(error)) {
      return exitCodes.schema;
    }
    return exitCodes.failure;
  }
}

// Run directly (`node src/cli/main.ts …`, as `npm run demo` does); the bin script calls main() itself.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
