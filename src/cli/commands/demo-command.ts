import { InvalidArgumentError, type Command } from 'commander';
import { runDemo } from '../../demo/run-demo.ts';
import { cliInvocation } from '../suggest-command.ts';

interface DemoCommandOptions {
  db?: string;
  queue: string;
  keep?: boolean;
  scripted?: boolean;
  model?: string;
  question?: string;
  claimTimeout?: number;
}

/** `demo`: the tutorial's task on an embedded database, with a worker killed mid-run and another resuming it. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run an agent task, kill its worker process mid-run, resume it in a new process, and show the evidence')
    .option('--db <url>', 'database URL (default: a new embedded PGlite database in a temporary directory)')
    .option('--queue <name>', 'queue to use', 'demo')
    .option('--keep', 'keep the temporary database and notes file, and print how to inspect them')
    .option('--scripted', 'use the local scripted model even when OPENAI_API_KEY or AI_GATEWAY_API_KEY is set')
    .option('--model <id>', 'model id for a real provider (default gpt-5-mini, or openai/gpt-5-mini through the gateway)')
    .option('--question <text>', 'what to ask the analyst')
    .option('--claim-timeout <seconds>', 'worker lease; the second worker takes over after it (default 3, or 10 with a real model)', parseSeconds)
    .addHelpText(
      'after',
      '\nNeeds no database server and no API key. Exits 0 when every check passes, 1 otherwise.\n' +
        'With OPENAI_API_KEY (or AI_GATEWAY_API_KEY) set, a real model answers instead of the scripted one.',
    )
    .action(async (options: DemoCommandOptions) => {
      await runDemo({
        db: options.db,
        queue: options.queue,
        keep: options.keep,
        scripted: options.scripted,
        model: options.model,
        question: options.question,
        claimTimeout: options.claimTimeout,
        commandName: cliInvocation(),
      });
    });
}

function parseSeconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number of seconds, 1 or more');
  return parsed;
}
