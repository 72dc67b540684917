// Durable models and tools used without AbsurdAgent find their run through the current task: one
// scope per name (per enclosing tool call) and per task execution, shared by a model and tools that
// carry the same name so tool checkpoints know which model call asked for them. Model calls are
// numbered per scope, so two generateText/streamText calls may not use one scope at the same time.
import { getCurrentTask } from '../client/current-task.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import { enclosingScope, RunScope, type DurableSettings, type ReplayDivergencePolicy, type RunBinding } from './run-scope.ts';
import { standaloneScope, validateScopeName } from '../steps/step-names.ts';

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
      standaloneCalls.set(scope, { name, inFlight: new Set() });
    }
    return { scope, settings };
  };
}

/** A model call or durable tool call of a standalone scope that has started and not ended. */
interface InFlightCall {
  readonly kind: 'model' | 'tool';
  /** Set on model calls that were in flight at the same time as another model call of the scope. */
  overlapped: boolean;
  /** Set once a model call's response asked for tool calls: its generateText/streamText goes on. */
  continues: boolean;
}

const standaloneCalls = new WeakMap<RunScope, { readonly name: string; readonly inFlight: Set<InFlightCall> }>();

/** One call of a standalone scope, counted as in flight until `leave` (calling it again is harmless). */
export interface StandaloneCall {
  /** For a model call whose response asks for tool calls: throws if it overlapped another model call. */
  continues(): void;
  leave(): void;
}

/**
 * Counts a model call (until its response, or its whole stream, is through) or a durable tool call of
 * a standalone scope as in flight; returns nothing for the scope of an agent run, which is not counted.
 *
 * Model calls are numbered in the order they start. Calls that overlap are numbered by the order of
 * their starts, which the code fixes; but a call that follows one of them (the next step, after the
 * tools) starts when the overlapping calls happen to finish, so a resumed task could not find its
 * checkpoints. The run therefore ends with a ConfigurationError when a model call starts while a
 * durable tool of its scope runs, or when model calls that overlapped ask for tool calls.
 */
export function enterStandaloneCall(scope: RunScope, kind: InFlightCall['kind']): StandaloneCall | undefined {
  const calls = standaloneCalls.get(scope);
  if (!calls) return undefined;
  const call: InFlightCall = { kind, overlapped: false, continues: false };
  if (kind === 'model') {
    for (const other of calls.inFlight) {
      if (other.kind === 'tool' || other.continues) throw concurrentUse(scope, calls.name);
      other.overlapped = true;
      call.overlapped = true;
    }
  }
  calls.inFlight.add(call);
  return {
    continues() {
      call.continues = true;
      if (call.overlapped) throw concurrentUse(scope, calls.name);
    },
    leave() {
      calls.inFlight.delete(call);
    },
  };
}

/** Ends the run with the error that explains a concurrent use of one standalone scope. */
function concurrentUse(scope: RunScope, name: string): ConfigurationError {
  const error = new ConfigurationError({
    setting: 'name',
    message:
      `Durable model "${name}" is used by two generateText/streamText calls at once in task ${scope.task.taskID}. ` +
      `Their checkpoints would be numbered in the order the calls happen to run, and a resumed task could not find them. ` +
      `Give each concurrent call its own name, for example durableModel(model, { name: "${name}-1" }) with ` +
      `durableTools(tools, { name: "${name}-1" }) for the first call and "${name}-2" for the second, ` +
      `use one AbsurdAgent (each generate()/stream() call is its own run), or await one call before starting the next.`,
  });
  scope.fail(error);
  return error;
}
