// What agent runs cost: model calls and tokens per task, agent and model, read from the model-call
// checkpoints (through the `ai_sdk_absurd.model_calls` view), and the tokens replays did not pay again.
import type { Queryable } from '../db/database.ts';
import { validateTaskID } from '../client/task-id.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { costOf, validatePrices, type ModelPrice } from './model-price.ts';

export type { ModelPrice } from './model-price.ts';

export interface UsageOptions {
  /** Only this task. */
  readonly taskID?: string;
  /** Only tasks of this queue. */
  readonly queue?: string;
  /** Only model calls of agents with this name (a standalone durable model counts under its `name`). */
  readonly agent?: string;
  /** Only model calls started at or after this time. */
  readonly since?: Date | string;
  /** Model id → price; with it, totals carry `cost` and `savedCost`. No prices are built in. */
  readonly prices?: Readonly<Record<string, ModelPrice>>;
}

export interface UsageTotals {
  readonly modelCalls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
  /** Of `outputTokens`, those the model spent reasoning (0 where providers did not report them). */
  readonly reasoningTokens: number;
  /** Of `inputTokens`, those read from the provider's prompt cache. */
  readonly cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache. */
  readonly cacheWriteTokens: number;
  /** Model calls that later attempts replayed from their checkpoints, counted once per replay. */
  readonly replayedCalls: number;
  readonly savedInputTokens: number;
  readonly savedOutputTokens: number;
  /** Tokens the resumed runs would have paid again without checkpoints. */
  readonly savedTokens: number;
  /** With `prices`: what was paid; undefined when a model of these calls has no price. */
  readonly cost?: number;
  readonly savedCost?: number;
}

export interface UsageReport {
  readonly totals: UsageTotals;
  readonly byTask: ReadonlyArray<UsageTotals & { readonly queueName: string; readonly taskID: string; readonly taskName: string }>;
  readonly byAgent: ReadonlyArray<UsageTotals & { readonly agent: string }>;
  readonly byModel: ReadonlyArray<UsageTotals & { readonly provider: string; readonly modelId: string }>;
}

interface UsageRow {
  queue_name: string;
  task_id: string;
  task_name: string;
  agent: string | null;
  provider: string | null;
  model_id: string | null;
  model_calls: number;
  input_tokens: string | number;
  output_tokens: string | number;
  replayed_calls: number;
  saved_input_tokens: string | number;
  saved_output_tokens: string | number;
  reasoning_tokens: string | number;
  cached_input_tokens: string | number;
  cache_write_tokens: string | number;
  saved_cached_input_tokens: string | number;
}

/** Reads the usage of the model calls that match `options`; see `Absurd.usage`. */
export async function readUsage(database: Queryable, options: UsageOptions = {}): Promise<UsageReport> {
  const since = sinceOf(options.since);
  if (options.taskID !== undefined) validateTaskID(options.taskID);
  validatePrices(options.prices, 'prices');
  const { rows } = await database.query<UsageRow>(
    `select m.queue_name, m.task_id::text as task_id, m.task_name, coalesce(m.agent, '') as agent,
            coalesce(m.provider, '') as provider, coalesce(m.model_id, '') as model_id,
            count(*)::integer as model_calls,
            coalesce(sum(m.input_tokens), 0)::bigint as input_tokens,
            coalesce(sum(m.output_tokens), 0)::bigint as output_tokens,
            coalesce(sum(m.replays), 0)::integer as replayed_calls,
            coalesce(sum(m.input_tokens * m.replays), 0)::bigint as saved_input_tokens,
            coalesce(sum(m.output_tokens * m.replays), 0)::bigint as saved_output_tokens,
            coalesce(sum(m.reasoning_tokens), 0)::bigint as reasoning_tokens,
            coalesce(sum(m.cached_input_tokens), 0)::bigint as cached_input_tokens,
            coalesce(sum(m.cache_write_tokens), 0)::bigint as cache_write_tokens,
            coalesce(sum(m.cached_input_tokens * m.replays), 0)::bigint as saved_cached_input_tokens
     from ai_sdk_absurd.model_calls m
     where ($1::uuid is null or m.task_id = $1::uuid)
       and ($2::text is null or m.queue_name = $2)
       and ($3::text is null or m.agent = $3)
       and ($4::timestamptz is null or coalesce(m.started_at, m.written_at) >= $4)
     group by 1, 2, 3, 4, 5, 6
     order by 1, 2, 4, 5, 6`,
    [options.taskID ?? null, options.queue ?? null, options.agent ?? null, since?.toISOString() ?? null],
  );
  const prices = options.prices;
  const byTask = new Map<string, { key: { queueName: string; taskID: string; taskName: string }; rows: UsageRow[] }>();
  const byAgent = new Map<string, UsageRow[]>();
  const byModel = new Map<string, { provider: string; modelId: string; rows: UsageRow[] }>();
  for (const row of rows) {
    const taskKey = `${row.queue_name}\u0000${row.task_id}`;
    if (!byTask.has(taskKey)) byTask.set(taskKey, { key: { queueName: row.queue_name, taskID: row.task_id, taskName: row.task_name }, rows: [] });
    byTask.get(taskKey)!.rows.push(row);
    byAgent.set(row.agent ?? '', [...(byAgent.get(row.agent ?? '') ?? []), row]);
    const modelKey = `${row.provider}\u0000${row.model_id}`;
    if (!byModel.has(modelKey)) byModel.set(modelKey, { provider: row.provider ?? '', modelId: row.model_id ?? '', rows: [] });
    byModel.get(modelKey)!.rows.push(row);
  }
  return {
    totals: totalsOf(rows, prices),
    byTask: [...byTask.values()].map(({ key, rows: taskRows }) => ({ ...key, ...totalsOf(taskRows, prices) })),
    byAgent: [...byAgent].map(([agent, agentRows]) => ({ agent, ...totalsOf(agentRows, prices) })),
    byModel: [...byModel.values()].map(({ provider, modelId, rows: modelRows }) => ({ provider, modelId, ...totalsOf(modelRows, prices) })),
  };
}

function totalsOf(rows: readonly UsageRow[], prices: UsageOptions['prices']): UsageTotals {
  let modelCalls = 0;
  let replayedCalls = 0;
  const sums = { input: 0, output: 0, reasoning: 0, cached: 0, cacheWrite: 0, savedInput: 0, savedOutput: 0 };
  let cost: number | undefined = prices ? 0 : undefined;
  let savedCost: number | undefined = prices ? 0 : undefined;
  for (const row of rows) {
    modelCalls += row.model_calls;
    replayedCalls += row.replayed_calls;
    const paid = { inputTokens: Number(row.input_tokens), outputTokens: Number(row.output_tokens), cachedInputTokens: Number(row.cached_input_tokens) };
    const saved = { inputTokens: Number(row.saved_input_tokens), outputTokens: Number(row.saved_output_tokens), cachedInputTokens: Number(row.saved_cached_input_tokens) };
    sums.input += paid.inputTokens;
    sums.output += paid.outputTokens;
    sums.cached += paid.cachedInputTokens;
    sums.reasoning += Number(row.reasoning_tokens);
    sums.cacheWrite += Number(row.cache_write_tokens);
    sums.savedInput += saved.inputTokens;
    sums.savedOutput += saved.outputTokens;
    if (prices) {
      const price = row.model_id === null ? undefined : prices[row.model_id];
      if (!price) {
        cost = undefined;
        savedCost = undefined;
      } else if (cost !== undefined && savedCost !== undefined) {
        cost += costOf(paid, price);
        savedCost += costOf(saved, price);
      }
    }
  }
  return {
    modelCalls,
    inputTokens: sums.input,
    outputTokens: sums.output,
    totalTokens: sums.input + sums.output,
    reasoningTokens: sums.reasoning,
    cachedInputTokens: sums.cached,
    cacheWriteTokens: sums.cacheWrite,
    replayedCalls,
    savedInputTokens: sums.savedInput,
    savedOutputTokens: sums.savedOutput,
    savedTokens: sums.savedInput + sums.savedOutput,
    ...(prices ? { cost, savedCost } : {}),
  };
}

function sinceOf(since: UsageOptions['since']): Date | undefined {
  if (since === undefined) return undefined;
  const date = since instanceof Date ? since : new Date(since);
  if (Number.isNaN(date.getTime())) {
    throw new ConfigurationError({
      setting: 'since',
      message: `usage: since must be a Date or an ISO 8601 time such as 2027-01-01T00:00:00Z; got ${JSON.stringify(since)}.`,
    });
  }
  return date;
}
