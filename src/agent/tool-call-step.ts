// One tool execution as one checkpoint, named after the tool call id the model gave it. The outcome,
// a value or a thrown error, is recorded; a replay returns the value or throws the same error again.
import type { ToolExecutionOptions } from 'ai';
import type { StepHandle } from 'absurd-sdk';
import { fingerprint } from '../codec/fingerprint.ts';
import { ReplayDivergenceError } from '../errors/replay-divergence-error.ts';
import { decodePayload, encodePayload, type ToolCallCheckpoint } from './checkpoint-format.ts';
import { beginCheckpoint, completeCheckpoint } from './checkpoint-store.ts';
import { isRunFatalError } from './run-fatal-error.ts';
import { enclosingScope, type RunContext, type RunScope } from './run-scope.ts';
import { enterInFlight } from './task-heartbeat.ts';
import { startWork, type GateWork } from '../client/suspension-gate.ts';

// The abort signal of the model call that asked for each tool call: the AI SDK merges the caller's
// signal and its own `timeout` (`totalMs`, `stepMs`) into it, and gives the tool that signal merged
// with the tool's own timeout (`toolMs`). An abort of the model call's signal is an abort of the run.
const modelCallSignals = new WeakMap<RunScope, Map<string, AbortSignal | undefined>>();

/** Remembers which model call (by number, and by its abort signal) asked for these tool calls. */
export function noteRequestedToolCalls(
  scope: RunScope,
  modelCall: number,
  toolCallIds: readonly string[],
  abortSignal: AbortSignal | undefined,
): void {
  scope.noteToolCalls(modelCall, toolCallIds);
  let signals = modelCallSignals.get(scope);
  if (!signals) {
    signals = new Map();
    modelCallSignals.set(scope, signals);
  }
  for (const toolCallId of toolCallIds) signals.set(toolCallId, abortSignal);
}

/** A tool call that is either replayed (`outcome` known) or to be executed (`run`). */
type OpenedToolCall =
  | { readonly replayed: true; readonly outcome: 'ok' | 'error'; readonly value: unknown }
  | { readonly replayed: false; readonly call: LiveToolCall };

export async function openToolCall(
  context: RunContext,
  toolName: string,
  input: unknown,
  options: ToolExecutionOptions<unknown>,
): Promise<OpenedToolCall> {
  const { scope, settings } = context;
  scope.throwIfFailed();
  const stepName = scope.toolStepName(toolName, options.toolCallId);
  const inputDigest = fingerprint(input ?? null);
  let handle;
  try {
    handle = await beginCheckpoint(scope.task, stepName);
  } catch (error) {
    scope.fail(error);
    throw error;
  }
  if (!handle.done) {
    let work: GateWork;
    try {
      work = await startWork(scope.task, stepName);
    } catch (error) {
      scope.fail(error);
      throw error;
    }
    return { replayed: false, call: new LiveToolCall(context, toolName, options, stepName, handle, inputDigest, work) };
  }

  const record = handle.state as Partial<ToolCallCheckpoint> | null;
  if (record?.kind !== 'tool-call' || record.toolName !== toolName) {
    const error = new ReplayDivergenceError({
      taskID: scope.task.taskID,
      stepName,
      expected: inputDigest,
      recorded: typeof record?.inputDigest === 'string' ? record.inputDigest : 'none',
      detail: `tool "${toolName}" is being replayed, but the checkpoint holds ${
        record?.kind === 'tool-call' ? `tool "${record.toolName}"` : 'no tool call'
      }`,
    });
    scope.fail(error);
    throw error;
  }
  scope.checkReplay({
    policy: settings.replayDivergence,
    stepName,
    expected: inputDigest,
    recorded: record.inputDigest,
    detail: `tool "${toolName}" is called with other input than was recorded`,
  });
  try {
    return { replayed: true, outcome: record.outcome === 'error' ? 'error' : 'ok', value: decodePayload(record.value, stepName) };
  } catch (error) {
    scope.fail(error);
    throw error;
  }
}

export class LiveToolCall {
  private readonly context: RunContext;
  private readonly toolName: string;
  private readonly options: ToolExecutionOptions<unknown>;
  private readonly stepName: string;
  private readonly handle: StepHandle<unknown>;
  private readonly inputDigest: string;
  private readonly startedAt = new Date();
  private readonly leave: () => void;
  private readonly work: GateWork;

  constructor(
    context: RunContext,
    toolName: string,
    options: ToolExecutionOptions<unknown>,
    stepName: string,
    handle: StepHandle<unknown>,
    inputDigest: string,
    work: GateWork,
  ) {
    this.context = context;
    this.toolName = toolName;
    this.options = options;
    this.stepName = stepName;
    this.handle = handle;
    this.inputDigest = inputDigest;
    this.leave = enterInFlight(context.scope.task);
    this.work = work;
  }

  /** Stops counting this call as in flight (calling it again is harmless). */
  release(): void {
    this.leave();
  }

  /** The call is over, its outcome written or abandoned: a sibling's wait no longer waits for it. */
  close(): void {
    this.leave();
    this.work.end();
  }

  /** Runs `work` (the user's code) so that agent runs started inside it get scopes nested in this call. */
  run<T>(work: () => T): T {
    return enclosingScope.run(this.stepName, work);
  }

  /** Records the tool's value and returns it as a replay would. */
  async succeed(output: unknown): Promise<unknown> {
    this.leave();
    return this.write('ok', () =>
      encodePayload(output, {
        stepName: this.stepName,
        subject: `tool "${this.toolName}"`,
        maxBytes: this.context.settings.maxCheckpointBytes,
      }),
    );
  }

  /**
   * Handles what the tool threw: errors that end the run are passed on unrecorded; an error thrown
   * while the run is aborted (by the caller, by the AI SDK's `timeout`, or by the run's failure) is
   * not the tool's outcome and is not recorded either, so the tool runs again on the next attempt;
   * any other error is recorded and returned (as a replay would rebuild it) for the caller to throw.
   */
  async fail(thrown: unknown): Promise<unknown> {
    this.leave();
    const { scope } = this.context;
    if (isRunFatalError(thrown)) {
      scope.fail(thrown);
      return thrown;
    }
    if (scope.failed || this.runAborted()) return thrown;
    return this.write('error', () => encodeError(thrown, this.stepName, this.context.settings.maxCheckpointBytes));
  }

  /**
   * True when the run this call belongs to is aborted. Only the tool's own timeout (`toolMs`) aborts
   * the tool's signal but not its model call's: the AI SDK shows that timeout to the model as the
   * tool's result and continues, so it is recorded like any other error. A tool call the model did not
   * ask for in this execution (carried in from the input messages) has only its own signal to go by.
   */
  private runAborted(): boolean {
    if (this.context.runSignal?.aborted) return true;
    const signals = modelCallSignals.get(this.context.scope);
    if (signals?.has(this.options.toolCallId)) return signals.get(this.options.toolCallId)?.aborted === true;
    return this.options.abortSignal?.aborted === true;
  }

  private async write(outcome: 'ok' | 'error', encode: () => string): Promise<unknown> {
    const { scope } = this.context;
    try {
      const value = encode();
      const record: ToolCallCheckpoint = {
        kind: 'tool-call',
        toolName: this.toolName,
        toolCallId: this.options.toolCallId,
        inputDigest: this.inputDigest,
        startedAt: this.startedAt.toISOString(),
        durationMs: Date.now() - this.startedAt.getTime(),
        outcome,
        value,
      };
      await completeCheckpoint(scope.task, this.handle, record);
      return decodePayload(value, this.stepName);
    } catch (error) {
      // Output the codec cannot store, or a checkpoint that cannot be written, ends the run.
      scope.fail(error);
      throw error;
    }
  }
}

/** Errors are encoded with what can be kept; one that cannot be stored at all keeps its name and message. */
function encodeError(thrown: unknown, stepName: string, maxBytes: number | undefined): string {
  try {
    return encodePayload(thrown, { stepName, maxBytes });
  } catch {
    const fallback = new Error(thrown instanceof Error ? thrown.message : String(thrown));
    fallback.name = thrown instanceof Error ? thrown.name : 'Error';
    fallback.stack = undefined;
    return encodePayload(fallback, { stepName, maxBytes });
  }
}
