// A budget's spend within one task execution, without a query before every model call. The first check
// of an execution reads the spend from the checkpoints in the database; later checks add the model-call
// checkpoints this execution wrote since, as its checkpoint path remembers them. That is exact while the
// run's lease certainly holds (no other attempt can write) and the task has no sub-agent children (whose
// calls only the database sees); otherwise every check reads the database again. Nothing outlives the
// execution: a resumed run starts again from the database.
import { claimedRunOf, type CurrentTask } from '../client/current-task.ts';
import type { ModelPrice } from './model-price.ts';
import { addSpend, readSpendByModel, summariseSpend, type BudgetScope, type BudgetSpend, type SpendByModel } from './budget-spend.ts';

interface Tally {
  readonly spend: SpendByModel;
  /** Checkpoint names the execution wrote that `spend` already counts (or that are not model calls). */
  readonly counted: Set<string>;
}

type ClaimedRun = NonNullable<ReturnType<typeof claimedRunOf>>;

/** What the budget of `where` has spent, as of now. */
export async function currentSpend(
  task: CurrentTask,
  where: BudgetScope,
  prices: Readonly<Record<string, ModelPrice>> | undefined,
): Promise<BudgetSpend> {
  const key = `ai-sdk-absurd:budget-spend:${where.agent ?? ''}`;
  const run = claimedRunOf(task);
  let tally = task.state.get(key) as Tally | undefined;
  if (!tally || !run || !addWrittenCalls(run, tally, where.agent)) {
    const counted = new Set(run ? run.written.keys() : []);
    tally = { spend: await readSpendByModel(task.absurd.database, where), counted };
    task.state.set(key, tally);
  }
  return summariseSpend(tally.spend, prices);
}

/** Adds the model calls written since the tally was read; false when memory cannot answer exactly. */
function addWrittenCalls(run: ClaimedRun, tally: Tally, agent: string | undefined): boolean {
  if (!(performance.now() < run.leaseHeldUntil) || run.checkpoints === undefined) return false;
  const names = [...run.checkpoints.keys(), ...run.written.keys()];
  // A sub-agent tool records its child as `<tool call>:child`: the child's calls are in another task.
  if (names.some((name) => name.endsWith(':child'))) return false;
  for (const [name, written] of run.written) {
    if (tally.counted.has(name)) continue;
    if (written === 'ask') return false;
    tally.counted.add(name);
    if (!/\/model:\d+$/.test(name) || (agent !== undefined && !name.startsWith(`${agent}:`) && !name.includes(`/${agent}:`))) continue;
    const state = ('state' in written ? written.state : written.text === null ? null : JSON.parse(written.text)) as {
      kind?: unknown;
      modelId?: unknown;
      usage?: { inputTokens?: unknown; outputTokens?: unknown; cachedInputTokens?: unknown };
    } | null;
    if (state?.kind !== 'model-call') continue;
    addSpend(tally.spend, typeof state.modelId === 'string' ? state.modelId : '', {
      modelCalls: 1,
      inputTokens: tokens(state.usage?.inputTokens),
      outputTokens: tokens(state.usage?.outputTokens),
      cachedInputTokens: tokens(state.usage?.cachedInputTokens),
    });
  }
  return true;
}

function tokens(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
