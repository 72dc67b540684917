// What a budget has spent so far, read from the model-call checkpoints of a task and of its sub-agent
// children, never kept in process memory across executions: every attempt counts, and a run resumed on
// another worker continues from the same total.
import type { Queryable } from '../db/database.ts';
import { queueTable } from '../db/queue-table.ts';
import type { BudgetSpent } from '../errors/budget-exceeded-error.ts';
import { costOf, type ModelPrice, type TokenCounts } from './model-price.ts';

/** What a budget counted; with prices, `cost` is undefined when a model of these calls has no price. */
export interface BudgetSpend extends BudgetSpent {
  /** Model ids among the calls that have no price. */
  readonly unpricedModels: readonly string[];
}

/** Where a budget counts: a task, and inside it only the runs of `agent` when given. */
export interface BudgetScope {
  readonly queueName: string;
  readonly taskID: string;
  readonly agent: string | undefined;
}

/** Model calls and their tokens per model id. */
export type SpendByModel = Map<string, TokenCounts & { modelCalls: number }>;

interface SpendRow {
  model_id: string | null;
  model_calls: string | number;
  input_tokens: string | number;
  output_tokens: string | number;
  cached_input_tokens: string | number;
  has_children?: boolean;
}

/**
 * Reads the model calls a budget counts: of the task (only inside runs of `agent` when given) and of every
 * sub-agent child task spawned below them, on every attempt.
 */
export async function readSpendByModel(queryable: Queryable, where: BudgetScope): Promise<SpendByModel> {
  // The task's own checkpoints in one plain statement; the SQL function walks the sub-agent tree only
  // when the task has children.
  const own = await queryable.query<SpendRow>(
    `select c.state->>'modelId' as model_id, count(*) as model_calls,
            coalesce(sum((c.state->'usage'->>'inputTokens')::numeric), 0)::bigint as input_tokens,
            coalesce(sum((c.state->'usage'->>'outputTokens')::numeric), 0)::bigint as output_tokens,
            coalesce(sum((c.state->'usage'->>'cachedInputTokens')::numeric), 0)::bigint as cached_input_tokens,
            false as has_children
     from ${queueTable('c', where.queueName)} c
     where c.task_id = $1::uuid and c.status = 'committed' and c.state->>'kind' = 'model-call'
       and ($2::text is null or ai_sdk_absurd.step_of_agent(c.checkpoint_name, $2))
     group by 1
     union all
     select null, 0, 0, 0, 0, true
     where exists (select 1 from ai_sdk_absurd.task_children l where l.parent_queue = $3 and l.parent_task_id = $1::uuid)`,
    [where.taskID, where.agent ?? null, where.queueName],
  );
  const rows = own.rows.some((row) => row.has_children)
    ? (
        await queryable.query<SpendRow>(
          'select model_id, model_calls, input_tokens, output_tokens, cached_input_tokens from ai_sdk_absurd.budget_spend($1, $2::uuid, $3)',
          [where.queueName, where.taskID, where.agent ?? null],
        )
      ).rows
    : own.rows;
  const spend: SpendByModel = new Map();
  for (const row of rows) {
    if (row.has_children) continue;
    addSpend(spend, row.model_id ?? '', {
      modelCalls: Number(row.model_calls),
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      cachedInputTokens: Number(row.cached_input_tokens),
    });
  }
  return spend;
}

/** Adds model calls of `modelId` to `spend`. */
export function addSpend(spend: SpendByModel, modelId: string, counts: TokenCounts & { modelCalls: number }): void {
  const sum = spend.get(modelId) ?? { modelCalls: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  spend.set(modelId, {
    modelCalls: sum.modelCalls + counts.modelCalls,
    inputTokens: sum.inputTokens + counts.inputTokens,
    outputTokens: sum.outputTokens + counts.outputTokens,
    cachedInputTokens: sum.cachedInputTokens + counts.cachedInputTokens,
  });
}

/** Totals of `spend`: tokens (input + output), and cost at `prices`. */
export function summariseSpend(spend: SpendByModel, prices: Readonly<Record<string, ModelPrice>> | undefined): BudgetSpend {
  let modelCalls = 0;
  let tokens = 0;
  let cost = 0;
  const unpriced = new Set<string>();
  for (const [modelId, counts] of spend) {
    modelCalls += counts.modelCalls;
    tokens += counts.inputTokens + counts.outputTokens;
    const price = prices?.[modelId];
    if (price) cost += costOf(counts, price);
    else unpriced.add(modelId || 'unknown');
  }
  const unpricedModels = [...unpriced].sort();
  return { modelCalls, tokens, ...(prices && unpricedModels.length === 0 ? { cost } : {}), unpricedModels };
}
