import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readUsage, type ModelPrice, type UsageReport, type UsageTotals } from '../../usage/usage-report.ts';
import { parseDuration } from '../parse-arguments.ts';
import { withClient, withDatabaseOption } from '../database-option.ts';
import { formatCount, formatTable } from '../format-output.ts';

/** `usage`: model calls and tokens per task, agent and model, and the tokens replays did not pay again. */
export function registerUsageCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('usage')
      .description('print model calls and tokens per agent, model and task, and the tokens saved by replaying checkpoints')
      .option('--task <taskID>', 'only this task')
      .option('--queue <name>', 'only this queue')
      .option('--agent <name>', 'only model calls of this agent')
      .option('--since <duration>', 'only model calls of the last <duration> (e.g. 24h, 7d)', parseDuration)
      .option('--prices <file>', 'JSON file of model id → { inputPerMillion, outputPerMillion, cachedInputPerMillion? }, to print costs', readPrices)
      .option('--json', 'print JSON'),
  ).action(
    async (options: { db?: string; task?: string; queue?: string; agent?: string; since?: number; prices?: Record<string, ModelPrice>; json?: boolean }) => {
      await withClient(options, async (absurd) => {
        const report = await readUsage(absurd.database, {
          ...(options.task === undefined ? {} : { taskID: options.task }),
          ...(options.queue === undefined ? {} : { queue: options.queue }),
          ...(options.agent === undefined ? {} : { agent: options.agent }),
          ...(options.since === undefined ? {} : { since: new Date(Date.now() - options.since * 1000) }),
          ...(options.prices === undefined ? {} : { prices: options.prices }),
        });
        console.log(options.json ? JSON.stringify(report, null, 2) : renderUsage(report, Boolean(options.prices)));
      });
    },
  );
}

export function renderUsage(report: UsageReport, priced: boolean): string {
  if (report.totals.modelCalls === 0) return 'No model calls.';
  const header = ['', 'model calls', 'input tokens', 'cached', 'output tokens', 'reasoning', 'replayed', 'tokens saved', ...(priced ? ['cost', 'saved'] : [])];
  const line = (label: string, totals: UsageTotals) => [
    label,
    formatCount(totals.modelCalls),
    formatCount(totals.inputTokens),
    formatCount(totals.cachedInputTokens),
    formatCount(totals.outputTokens),
    formatCount(totals.reasoningTokens),
    formatCount(totals.replayedCalls),
    formatCount(totals.savedTokens),
    ...(priced ? [formatCost(totals.cost), formatCost(totals.savedCost)] : []),
  ];
  return [
    formatTable([header, ...report.byAgent.map((row) => line(`agent ${row.agent || '(none)'}`, row)), line('total', report.totals)]),
    '',
    formatTable([header, ...report.byModel.map((row) => line(`${row.provider} ${row.modelId}`, row))]),
    '',
    formatTable([header, ...report.byTask.map((row) => line(`${row.taskID} ${row.taskName}`, row))]),
  ].join('\n');
}

function formatCost(cost: number | undefined): string {
  return cost === undefined ? 'no price' : cost.toFixed(4);
}

function readPrices(file: string): Record<string, ModelPrice> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, ModelPrice>;
  } catch (error) {
    throw new InvalidArgumentError(`cannot read a JSON price table from ${file} (${(error as Error).message})`);
  }
}
