// Everything one `generate()`/`stream()` call of an AbsurdAgent needs: its checkpoint scope, and an
// inner ToolLoopAgent whose model and tools (including any that prepareCall or prepareStep supply)
// are bound to that scope, with the SDK's own retries turned off.
import { ToolLoopAgent, type LanguageModel, type ToolLoopAgentSettings, type ToolSet } from 'ai';
import { getCurrentTask, type CurrentTask } from '../client/current-task.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import { bindModel } from './durable-model.ts';
import { bindTools } from './durable-tool.ts';
import { enclosingScope, RunScope, type DurableSettings, type RunBinding, type RunContext } from './run-scope.ts';
import { agentRunScope } from '../steps/step-names.ts';
import type { BudgetPolicy } from '../usage/agent-budget.ts';
import { enforceBudget } from '../usage/budget-guard.ts';
import { taskBudgetOf } from '../usage/task-budget.ts';

type AnySettings = ToolLoopAgentSettings<any, any, any, any>;

const boundPrepareStep = Symbol('ai-sdk-absurd.bound-prepare-step');

export interface AgentRun {
  readonly scope: RunScope;
  readonly inner: ToolLoopAgent<any, any, any, any>;
  /** The caller's abort signal merged with the run's own; pass it to the inner agent. */
  readonly abortSignal: AbortSignal;
  /** The task whose handler runs the agent. */
  readonly task: CurrentTask;
  /** Whether the run was started inside a durable tool of another run (a nested agent). */
  readonly nested: boolean;
}

/**
 * Starts a run synchronously, so that concurrent runs of one agent get their ordinals in the order
 * `generate`/`stream` was called, not in the order their first awaits resolve.
 */
export function startAgentRun(options: {
  readonly name: string;
  readonly settings: AnySettings;
  readonly durable: Pick<DurableSettings, 'replayDivergence' | 'maxCheckpointBytes'>;
  readonly callerSignal: AbortSignal | undefined;
  readonly operation: string;
  /** Checked before each live model call of the run. */
  readonly budget?: BudgetPolicy;
}): AgentRun {
  const task = getCurrentTask();
  if (!task) throw new NotInTaskError({ operation: options.operation });
  const parent = enclosingScope.getStore();
  const scope = new RunScope(task, agentRunScope(options.name, nextRunOrdinal(task, options.name, parent), parent));
  // The agent's own budget, then the task's (registerTask's `budget`): a call needs room in both.
  const budgets = [options.budget, taskBudgetOf(task)].filter((budget): budget is BudgetPolicy => budget !== undefined);
  if (budgets.length > 0) {
    scope.beforeLiveModelCall = async (stepName) => {
      for (const budget of budgets) await enforceBudget(budget, { task, agent: options.name, stepName });
    };
  }
  const abortSignal = options.callerSignal
    ? AbortSignal.any([options.callerSignal, scope.abortController.signal])
    : scope.abortController.signal;
  const settings: DurableSettings = { ...options.durable, maxRetries: options.settings.maxRetries ?? 2 };
  const context: RunContext = { scope, settings, runSignal: abortSignal };
  const binding: RunBinding = () => context;
  const inner = new ToolLoopAgent(innerSettings(options.settings, settings, binding));
  return { scope, abortSignal, task, nested: parent !== undefined, inner };
}

function innerSettings(user: AnySettings, durable: DurableSettings, binding: RunBinding): AnySettings {
  const { prepareCall, prepareStep } = user;
  return {
    ...user,
    model: bindModel(user.model, binding),
    ...(user.tools ? { tools: bindTools(user.tools, binding) } : {}),
    // Retries happen inside each model checkpoint; SDK retries would shift checkpoint names.
    maxRetries: 0,
    prepareCall: async (callArgs) => {
      const userArgs = { ...callArgs, maxRetries: user.maxRetries };
      const prepared = prepareCall ? await prepareCall(userArgs) : userArgs;
      durable.maxRetries = prepared.maxRetries ?? 2;
      return {
        ...prepared,
        model: bindModel(prepared.model as LanguageModel, binding),
        ...(prepared.tools ? { tools: bindTools(prepared.tools as ToolSet, binding) } : {}),
        ...(prepared.prepareStep ? { prepareStep: bindPrepareStep(prepared.prepareStep, binding) } : {}),
        maxRetries: 0,
      };
    },
    ...(prepareStep ? { prepareStep: bindPrepareStep(prepareStep, binding) } : {}),
  };
}

/** A model that `prepareStep` swaps in for one step is bound to the run like the agent's own. */
function bindPrepareStep(prepareStep: NonNullable<AnySettings['prepareStep']>, binding: RunBinding): NonNullable<AnySettings['prepareStep']> {
  if ((prepareStep as unknown as Record<symbol, unknown>)[boundPrepareStep] === binding) return prepareStep;
  const bound = async (options: Parameters<typeof prepareStep>[0]) => {
    const result = await prepareStep(options);
    return result?.model ? { ...result, model: bindModel(result.model, binding) } : result;
  };
  return Object.assign(bound, { [boundPrepareStep]: binding });
}

function nextRunOrdinal(task: CurrentTask, name: string, parent: string | undefined): number {
  const key = 'ai-sdk-absurd:agent-runs';
  let ordinals = task.state.get(key) as Map<string, number> | undefined;
  if (!ordinals) {
    ordinals = new Map();
    task.state.set(key, ordinals);
  }
  const counterKey = `${parent ?? ''}\u0000${name}`;
  const ordinal = (ordinals.get(counterKey) ?? 0) + 1;
  ordinals.set(counterKey, ordinal);
  return ordinal;
}
