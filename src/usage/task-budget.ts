// The `budget` option of registerTask: one limit on every model call of a task (every agent in it, every
// attempt, every sub-agent child below it), checked before each live model call like an agent's budget.
import type { CurrentTask } from '../client/current-task.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { budgetPolicy, type AgentBudget, type BudgetPolicy } from './agent-budget.ts';

/**
 * A task's spend limit: an agent budget that always counts the whole task.
 *
 * @example
 * ```ts
 * absurd.registerTask({ name: 'research', budget: { tokens: 500_000, onExceeded: 'suspend' } }, async (params) => {
 *   const plan = await planner.generate({ prompt: params.prompt });
 *   return { report: (await writer.generate({ prompt: plan.text })).text };
 * });
 * ```
 */
export type TaskBudget = Omit<AgentBudget, 'counts'>;

const taskBudgetKey = 'ai-sdk-absurd.task-budget';

/** Checks a task's `budget` option once, when the task is registered. */
export function taskBudgetPolicy(budget: TaskBudget | undefined): BudgetPolicy | undefined {
  if (budget === undefined) return undefined;
  if (budget !== null && typeof budget === 'object' && 'counts' in budget && budget.counts !== undefined) {
    throw new ConfigurationError({
      setting: 'budget.counts',
      message: "A task's budget counts every model call of the task; remove budget.counts (it is for an agent's budget).",
    });
  }
  return budgetPolicy({ ...budget, counts: 'task' });
}

/** Makes `policy` the budget of this execution of the task, for the agents that run in it. */
export function setTaskBudget(task: CurrentTask, policy: BudgetPolicy): void {
  task.state.set(taskBudgetKey, policy);
}

/** The budget the task's registration gave it, if any. */
export function taskBudgetOf(task: CurrentTask): BudgetPolicy | undefined {
  return task.state.get(taskBudgetKey) as BudgetPolicy | undefined;
}
