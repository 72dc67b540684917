// Durable models and tools used without AbsurdAgent find their run through the current task: one
// scope per name (per enclosing tool call) and per task execution, shared by a model and tools that
// carry the same name so tool checkpoints know which model call asked for them.
import { getCurrentTask } from '../client/current-task.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import { enclosingScope, RunScope, type DurableSettings, type ReplayDivergencePolicy, type RunBinding } from './run-scope.ts';
import { standaloneScope, validateScopeName } from './step-names.ts';

export interface DurableCallOptions {
  /** Prefixes every checkpoint; give a model and the tools it calls the same name. */
  readonly name: string;
  /** What a replayed call that differs from its checkpoint does: throw (default), warn, or nothing. */
  readonly replayDivergence?: ReplayDivergencePolicy;
  /** Largest checkpoint in bytes of JSON (default 8 MiB). */
  readonly maxCheckpointBytes?: number;
  /**
   * Retries of a retryable provider error (`APICallError.isRetryable`) inside one checkpoint, with
   * exponential backoff (default 2). Pass `maxRetries: 0` to `generateText`/`streamText` as well.
   */
  readonly maxRetries?: number;
}

export function standaloneBinding(options: DurableCallOptions, label: 'Durable model' | 'Durable tool'): RunBinding {
  const name = validateScopeName(
    options?.name,
    'name',
    label === 'Durable model'
      ? 'Pass one, for example durableModel(model, { name: "writer" }).'
      : 'Pass one, for example durableTools(tools, { name: "writer" }).',
  );
  const settings: DurableSettings = {
    replayDivergence: options.replayDivergence ?? 'error',
    maxCheckpointBytes: options.maxCheckpointBytes,
    maxRetries: options.maxRetries ?? 2,
  };
  return () => {
    const task = getCurrentTask();
    if (!task) throw new NotInTaskError({ operation: `${label} "${name}"` });
    const prefix = standaloneScope(name, enclosingScope.getStore());
    const key = `ai-sdk-absurd:scope:${prefix}`;
    let scope = task.state.get(key) as RunScope | undefined;
    if (!scope) {
      scope = new RunScope(task, prefix);
      task.state.set(key, scope);
    }
    return { scope, settings };
  };
}
