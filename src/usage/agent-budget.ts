// The `budget` setting of an AbsurdAgent: limits on what its runs (or its whole task) may spend on
// model calls, counted over every attempt and every sub-agent child, and what happens at the limit.
import { ConfigurationError } from '../errors/configuration-error.ts';
import type { BudgetLimits } from '../errors/budget-exceeded-error.ts';
import { validatePrices, type ModelPrice } from './model-price.ts';

/**
 * A spend limit checked before each model call the run makes live (replayed calls are free). Spent is
 * read from the task's model-call checkpoints, so it counts every attempt, including attempts that
 * crashed, and every sub-agent child task below; a resumed run continues from what was already spent.
 *
 * @example
 * ```ts
 * const researcher = new AbsurdAgent(
 *   {
 *     id: 'researcher',
 *     model,
 *     budget: {
 *       tokens: 200_000,
 *       cost: 2.5,
 *       prices: { 'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 } },
 *       onExceeded: 'suspend', // a person raises it with `ai-sdk-absurd approve`, or the run fails
 *     },
 *   },
 *   absurd,
 * );
 * ```
 */
export interface AgentBudget {
  /** Total tokens (input + output) the model calls may use. */
  readonly tokens?: number;
  /** Cost in the currency of `prices`; needs a price for every model the calls use. */
  readonly cost?: number;
  /** Model id → price per million tokens, for `cost`. No prices are built in. */
  readonly prices?: Readonly<Record<string, ModelPrice>>;
  /**
   * What counts: 'agent' (the default) the model calls inside this agent's runs in the task; 'task' every
   * model call of the task. Both count the sub-agent child tasks spawned below them, and theirs.
   */
  readonly counts?: 'agent' | 'task';
  /**
   * At the limit: 'fail' (the default) fails the task with BudgetExceededError, without retries;
   * 'suspend' asks a person to raise the budget (an approval request, decided like a tool call) and
   * continues once raised, or fails with BudgetExceededError when denied.
   */
  readonly onExceeded?: 'fail' | 'suspend';
  /** What one approved raise adds to the limits. Default: the limits themselves (each raise doubles the start). */
  readonly raiseBy?: BudgetLimits;
  /** Seconds a raise request waits before it counts as denied ("timed out"). Unset waits forever. */
  readonly raiseTimeout?: number;
}

/** A validated budget. */
export interface BudgetPolicy {
  readonly limits: BudgetLimits;
  readonly prices: Readonly<Record<string, ModelPrice>> | undefined;
  readonly counts: 'agent' | 'task';
  readonly onExceeded: 'fail' | 'suspend';
  readonly raiseBy: BudgetLimits;
  readonly raiseTimeout: number | undefined;
}

/** Checks an agent's `budget` setting once, when the agent is built. */
export function budgetPolicy(budget: AgentBudget | undefined): BudgetPolicy | undefined {
  if (budget === undefined) return undefined;
  if (budget === null || typeof budget !== 'object') refuse('budget', `budget must be an object such as { tokens: 100000 }, not ${JSON.stringify(budget)}.`);
  const tokens = amount(budget.tokens, 'budget.tokens');
  const cost = amount(budget.cost, 'budget.cost');
  if (tokens === undefined && cost === undefined) refuse('budget', 'budget needs a limit: { tokens } (total tokens), { cost } (with prices), or both.');
  if (cost !== undefined && budget.prices === undefined) {
    refuse('budget.prices', 'budget.cost needs budget.prices: model id → { inputPerMillion, outputPerMillion }, in the currency of the cost.');
  }
  validatePrices(budget.prices, 'budget.prices');
  const counts = budget.counts ?? 'agent';
  if (counts !== 'agent' && counts !== 'task') refuse('budget.counts', `budget.counts must be 'agent' or 'task', not ${JSON.stringify(counts)}.`);
  const onExceeded = budget.onExceeded ?? 'fail';
  if (onExceeded !== 'fail' && onExceeded !== 'suspend') {
    refuse('budget.onExceeded', `budget.onExceeded must be 'fail' or 'suspend', not ${JSON.stringify(onExceeded)}.`);
  }
  const limits: BudgetLimits = { ...(tokens !== undefined ? { tokens } : {}), ...(cost !== undefined ? { cost } : {}) };
  const raiseBy: BudgetLimits = budget.raiseBy === undefined
    ? limits
    : {
        ...(tokens !== undefined ? { tokens: amount(budget.raiseBy.tokens, 'budget.raiseBy.tokens') ?? tokens } : {}),
        ...(cost !== undefined ? { cost: amount(budget.raiseBy.cost, 'budget.raiseBy.cost') ?? cost } : {}),
      };
  return { limits, prices: budget.prices, counts, onExceeded, raiseBy, raiseTimeout: amount(budget.raiseTimeout, 'budget.raiseTimeout') };
}

function amount(value: unknown, setting: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) refuse(setting, `${setting} must be a number >= 0, not ${JSON.stringify(value)}.`);
  return value;
}

function refuse(setting: string, message: string): never {
  throw new ConfigurationError({ setting, message });
}
