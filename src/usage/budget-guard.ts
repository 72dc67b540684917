// Enforcing a budget before a live model call: the spend is read from the checkpoints; at the limit the
// run fails with BudgetExceededError, or (onExceeded: 'suspend') asks a person to raise the budget through
// the approvals machinery. Raises are rows of ai_sdk_absurd.tool_approvals, so they too outlive crashes.
import { joinApprovalWaits } from '../approvals/approval-waits.ts';
import { readDecisions, recordApprovalRequest } from '../approvals/approval-store.ts';
import { fingerprint } from '../codec/fingerprint.ts';
import type { CurrentTask } from '../client/current-task.ts';
import { markPermanent } from '../client/permanent-failure.ts';
import { BudgetExceededError, type BudgetLimits } from '../errors/budget-exceeded-error.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import type { BudgetPolicy } from './agent-budget.ts';
import type { BudgetSpend } from './budget-spend.ts';
import { currentSpend } from './budget-tally.ts';

/** The tool name budget raise requests are listed under, beside tool calls that wait for approval. */
export const raiseBudgetToolName = 'raise-budget';

/** Where a model call is about to be made. */
export interface BudgetCheckpoint {
  readonly task: CurrentTask;
  /** The agent whose run makes the call. */
  readonly agent: string;
  /** The checkpoint name of the call, e.g. `analyst:1/model:4`. */
  readonly stepName: string;
}

interface RaiseRow {
  request_id: string;
  tool_call_id: string;
  decided_at: Date | null;
  approved: boolean | null;
  reason: string | null;
}

/**
 * Returns when the budget allows another model call; throws BudgetExceededError (marked permanent, so the
 * task fails at once) when it does not, or, with onExceeded 'suspend', waits for a person to raise it.
 */
export async function enforceBudget(policy: BudgetPolicy, at: BudgetCheckpoint): Promise<void> {
  const { task } = at;
  const agent = policy.counts === 'agent' ? at.agent : undefined;
  const budgetKey = `budget:${agent ?? 'task'}`;
  for (;;) {
    const spent = await currentSpend(task, { queueName: task.queueName, taskID: task.taskID, agent }, policy.prices);
    if (policy.limits.cost !== undefined && spent.cost === undefined) throw unpriced(spent);
    const raises = policy.onExceeded === 'suspend' ? await readRaises(task, budgetKey) : [];
    const approved = raises.filter((raise) => raise.approved === true).length;
    const budget = raised(policy, approved);
    const limit = reachedLimit(budget, spent);
    if (limit === undefined) return;
    const exceeded = (denial?: RaiseRow) =>
      markPermanent(
        new BudgetExceededError({
          budget,
          spent: { modelCalls: spent.modelCalls, tokens: spent.tokens, ...(spent.cost !== undefined ? { cost: spent.cost } : {}) },
          limit,
          taskID: task.taskID,
          queueName: task.queueName,
          agent,
          stepName: at.stepName,
          ...(denial ? { denied: true, reason: denial.reason } : {}),
        }),
      );
    if (policy.onExceeded === 'fail') throw exceeded();
    const denial = raises.find((raise) => raise.decided_at !== null && raise.approved !== true);
    if (denial) throw exceeded(denial);
    await awaitRaise(policy, at, { budgetKey, number: approved + 1, budget, spent, agent });
  }
}

/** The limits after `approved` raises. */
function raised(policy: BudgetPolicy, approved: number): BudgetLimits {
  const { tokens, cost } = policy.limits;
  return {
    ...(tokens !== undefined ? { tokens: tokens + approved * (policy.raiseBy.tokens ?? 0) } : {}),
    ...(cost !== undefined ? { cost: cost + approved * (policy.raiseBy.cost ?? 0) } : {}),
  };
}

/** The first limit the spend has reached: one more call would go over it. */
function reachedLimit(budget: BudgetLimits, spent: BudgetSpend): 'tokens' | 'cost' | undefined {
  if (budget.tokens !== undefined && spent.tokens >= budget.tokens) return 'tokens';
  if (budget.cost !== undefined && spent.cost !== undefined && spent.cost >= budget.cost) return 'cost';
  return undefined;
}

/** The raise requests of one budget of the task, in the order they were asked. */
async function readRaises(task: CurrentTask, budgetKey: string): Promise<RaiseRow[]> {
  const prefix = `${budgetKey}/raise:`;
  const { rows } = await task.absurd.database.query<RaiseRow & { request_key: string }>(
    `select request_id::text as request_id, request_key, tool_call_id, decided_at, approved, reason
     from ai_sdk_absurd.tool_approvals
     where task_id = $1::uuid and left(request_key, length($2)) = $2`,
    [task.taskID, prefix],
  );
  return rows.sort((a, b) => Number(a.request_key.slice(prefix.length)) - Number(b.request_key.slice(prefix.length)));
}

/**
 * Records raise request `number` (once: a resumed run finds the same row) and waits, with the task's other
 * approval waits, until it is decided; the task suspends meanwhile, holding no worker.
 */
async function awaitRaise(
  policy: BudgetPolicy,
  at: BudgetCheckpoint,
  ask: { budgetKey: string; number: number; budget: BudgetLimits; spent: BudgetSpend; agent: string | undefined },
): Promise<void> {
  const { task } = at;
  const toolCallId = `${ask.budgetKey}:${ask.number}`;
  const input = {
    ...(ask.agent !== undefined ? { agent: ask.agent } : {}),
    budget: ask.budget,
    spent: { modelCalls: ask.spent.modelCalls, tokens: ask.spent.tokens, ...(ask.spent.cost !== undefined ? { cost: ask.spent.cost } : {}) },
    raiseBy: policy.raiseBy,
    nextModelCall: at.stepName,
  };
  const requestId = await recordApprovalRequest(task.absurd.database, {
    taskID: task.taskID,
    requestKey: `${ask.budgetKey}/raise:${ask.number}`,
    toolCallId,
    queueName: task.queueName,
    toolName: raiseBudgetToolName,
    input,
    inputDigest: fingerprint(input),
    timeoutSeconds: policy.raiseTimeout ?? null,
  });
  const decisions = await readDecisions(task.absurd.database, task.taskID, [{ requestId, toolCallId }]);
  const member = joinApprovalWaits(task, `${at.stepName}/budget`, `${at.stepName}/budget`);
  try {
    await member.whileLive();
    if (decisions.get(requestId) === undefined) await member.wait([requestId]);
  } finally {
    member.leave();
  }
}

function unpriced(spent: BudgetSpend): ConfigurationError {
  return new ConfigurationError({
    setting: 'budget.prices',
    message:
      `budget.cost cannot be counted: budget.prices has no price for model ${spent.unpricedModels.map((id) => JSON.stringify(id)).join(', ')}. ` +
      'Add a price for every model the agent and its sub-agents use.',
  });
}
