// The state one durable run shares between its model calls and tool calls: where its checkpoints
// live, which model call asked for each tool call, and the first error that must end the run.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { StepHandle } from 'absurd-sdk';
import { recordTaskFailure, type CurrentTask } from '../client/current-task.ts';
import { ReplayDivergenceError } from '../errors/replay-divergence-error.ts';
import { beginCheckpoint } from './checkpoint-store.ts';
import { PromptDigests } from './model-call-fingerprint.ts';
import { modelCallStepName, toolCallStepName } from '../steps/step-names.ts';
import { onTaskStopped } from './task-heartbeat.ts';

export type ReplayDivergencePolicy = 'error' | 'warn' | 'ignore';

/** Durable behaviour of a run; `maxRetries` may change when `prepareCall` returns another value. */
export interface DurableSettings {
  replayDivergence: ReplayDivergencePolicy;
  maxCheckpointBytes: number | undefined;
  /** Retries of a retryable model error inside one checkpoint slot. */
  maxRetries: number;
}

/** A reserved model-call checkpoint. */
export interface ModelCallSlot {
  readonly number: number;
  readonly stepName: string;
  readonly handle: StepHandle<unknown>;
  readonly fingerprint: string;
}

export class RunScope {
  readonly task: CurrentTask;
  /** Prefix of every checkpoint of this run, e.g. `analyst:1`. */
  readonly prefix: string;
  /** Aborted when the run fails; the run's caller passes it (merged) to the agent loop. */
  readonly abortController = new AbortController();
  /** Digests of the previous model call's prompt, so a growing prompt is not hashed again in full. */
  readonly promptDigests = new PromptDigests();
  /** Runs before each model call that is made live (not replayed); throwing ends the run (a budget). */
  beforeLiveModelCall: ((stepName: string) => Promise<void>) | undefined;
  private modelCalls = 0;
  private retriedSlot: ModelCallSlot | undefined;
  private readonly toolCallOrigins = new Map<string, number>();
  private failure: { readonly error: unknown } | undefined;

  constructor(task: CurrentTask, prefix: string) {
    this.task = task;
    this.prefix = prefix;
    onTaskStopped(task, (error) => this.fail(error));
  }

  /** The first error that ended this run, if any. */
  get failed(): { readonly error: unknown } | undefined {
    return this.failure;
  }

  /**
   * Ends the run with `error`: it is kept (the first one wins), the run's signal is aborted with it,
   * and it is recorded on the task so a handler cannot complete with the run's partial output.
   */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    recordTaskFailure(this.task, error);
    this.abortController.abort(error);
  }

  /** Throws the run's failure, so no new call starts after the run has ended. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /**
   * Reserves the checkpoint of the next model call. A call that failed without a checkpoint leaves
   * its slot for a retry of the same request, so retries outside the middleware do not shift names.
   */
  async beginModelCall(fingerprint: string): Promise<ModelCallSlot> {
    this.throwIfFailed();
    const retried = this.retriedSlot;
    this.retriedSlot = undefined;
    if (retried && retried.fingerprint === fingerprint) return retried;
    const number = ++this.modelCalls;
    const stepName = modelCallStepName(this.prefix, number);
    const handle = await beginCheckpoint(this.task, stepName);
    if (!handle.done && this.beforeLiveModelCall) {
      try {
        await this.beforeLiveModelCall(stepName);
      } catch (error) {
        this.fail(error);
        throw error;
      }
    }
    return { number, stepName, handle, fingerprint };
  }

  /** Frees a slot whose call failed before its checkpoint was written. */
  releaseModelCall(slot: ModelCallSlot): void {
    this.retriedSlot = slot;
  }

  /** Remembers which model call asked for these tool calls. */
  noteToolCalls(modelCall: number, toolCallIds: Iterable<string>): void {
    for (const toolCallId of toolCallIds) this.toolCallOrigins.set(toolCallId, modelCall);
  }

  toolStepName(toolName: string, toolCallId: string): string {
    return toolCallStepName(this.prefix, this.toolCallOrigins.get(toolCallId) ?? 0, toolName, toolCallId);
  }

  /**
   * Compares what is being replayed with what was recorded. Under the 'error' policy a mismatch ends
   * the run with ReplayDivergenceError; 'warn' logs it; 'ignore' uses the checkpoint silently.
   */
  checkReplay(options: {
    policy: ReplayDivergencePolicy;
    stepName: string;
    expected: string;
    recorded: unknown;
    detail: string;
  }): void {
    if (options.expected === options.recorded || options.policy === 'ignore') return;
    const error = new ReplayDivergenceError({
      taskID: this.task.taskID,
      stepName: options.stepName,
      expected: options.expected,
      recorded: typeof options.recorded === 'string' ? options.recorded : 'none',
      detail: options.detail,
    });
    if (options.policy === 'warn') {
      console.warn(`[ai-sdk-absurd] ${error.message} Using the recorded checkpoint.`);
      return;
    }
    this.fail(error);
    throw error;
  }
}


/** Set around a durable tool's `execute`, so agent runs started inside it get a nested scope. */
export const enclosingScope = new AsyncLocalStorage<string>();

/** What a model or tool wrapper works with during one call. */
export interface RunContext {
  readonly scope: RunScope;
  readonly settings: DurableSettings;
  /** The caller's abort signal merged with the run's own, when known (agent runs). */
  readonly runSignal?: AbortSignal;
}

/** How model and tool wrappers find their run: fixed for an agent run, looked up for standalone use. */
export type RunBinding = () => RunContext;
