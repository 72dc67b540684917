import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/** A budget's limits: total tokens (input + output), and cost in the currency of its prices. */
export interface BudgetLimits {
  readonly tokens?: number;
  readonly cost?: number;
}

/** What a budget has counted so far; `cost` is undefined when a model of these calls has no price. */
export interface BudgetSpent {
  readonly modelCalls: number;
  readonly tokens: number;
  readonly cost?: number;
}

/**
 * A run was stopped before its next model call: its budget (an `AbsurdAgent`'s `budget` setting) has been
 * spent, counting every attempt of the task and every sub-agent child below it. It fails the task at once,
 * without further attempts. `denied` is true when a person was asked to raise the budget and refused.
 */
export class BudgetExceededError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdBudgetExceededError';
  /** The limits in force, including raises a person approved. */
  readonly budget: BudgetLimits;
  readonly spent: BudgetSpent;
  /** Which limit was reached. */
  readonly limit: 'tokens' | 'cost';
  readonly taskID: string;
  readonly queueName: string;
  /** The agent whose budget it is; undefined for a budget that counts the whole task. */
  readonly agent: string | undefined;
  /** The checkpoint name of the model call that was not made, e.g. `analyst:1/model:4`. */
  readonly stepName: string;
  readonly denied: boolean;

  constructor(options: {
    budget: BudgetLimits;
    spent: BudgetSpent;
    limit: 'tokens' | 'cost';
    taskID: string;
    queueName: string;
    agent: string | undefined;
    stepName: string;
    denied?: boolean;
    reason?: string | null;
  }) {
    const where = options.agent === undefined ? `task ${options.taskID}` : `agent "${options.agent}" in task ${options.taskID}`;
    const spent = options.limit === 'tokens' ? `${options.spent.tokens} tokens` : `a cost of ${options.spent.cost}`;
    const limit = options.limit === 'tokens' ? `${options.budget.tokens} tokens` : `${options.budget.cost}`;
    const fix = options.denied
      ? ` A person denied raising it${options.reason ? ` (${options.reason})` : ''}.`
      : ' Raise the budget, or set budget.onExceeded to "suspend" so that a person can raise it, and spawn the task again.';
    super({
      name: BudgetExceededError.errorName,
      message:
        `Budget exceeded: ${where} has spent ${spent} in ${options.spent.modelCalls} model calls ` +
        `(every attempt and sub-agent counted), reaching its limit of ${limit}; model call ${options.stepName} was not made.${fix}`,
    });
    this.budget = options.budget;
    this.spent = options.spent;
    this.limit = options.limit;
    this.taskID = options.taskID;
    this.queueName = options.queueName;
    this.agent = options.agent;
    this.stepName = options.stepName;
    this.denied = options.denied ?? false;
  }
}
