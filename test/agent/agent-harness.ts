// Shared pieces of the agent suites: an Absurd client on a fresh test database whose checkpoint writes
// can "crash" the process at an exact point, a scripted mock model that answers from the prompt alone
// (so a replayed run gets the same answers), and snapshots of agent results for deep comparison.
import type { LanguageModelV4CallOptions, LanguageModelV4Content, LanguageModelV4GenerateResult, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { GenerateTextResult, StepResult, StreamTextResult } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import type { TaskResultSnapshot } from 'absurd-sdk';
import { Absurd } from '../../src/client/absurd.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import type { Database } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

export const silentLog = { log() {}, info() {}, warn() {}, error() {}, debug() {} } as unknown as Console;

/** Thrown by a checkpoint write to stand in for the worker process dying right after that write committed. */
export class SimulatedCrash extends Error {
  constructor(stepName: string) {
    super(`simulated crash after checkpoint "${stepName}" was written`);
    this.name = 'SimulatedCrash';
  }
}

/**
 * Decides when the "process" dies. Armed with `k`, the k-th checkpoint write commits and then throws;
 * from then on, until the next claim, no further checkpoint write reaches the database (a dead process
 * writes nothing) and `crashed` tells tools and models that their work no longer happens.
 */
export class CrashSwitch {
  private remaining: number | undefined;
  private recording = false;
  /** Names of the `absurd.*` functions called, in order. */
  readonly calls: string[] = [];
  crashed = false;
  /** Checkpoints written by the attempt that crashed, up to the crash, in order. */
  readonly writtenBeforeCrash: string[] = [];
  /**
   * Every checkpoint that attempt made durable: with Postgres, a write already sent when the crash
   * happened may still commit, as it may when a real process dies.
   */
  readonly committed = new Set<string>();

  arm(afterWrites: number): void {
    this.remaining = afterWrites;
    this.recording = true;
    this.crashed = false;
    this.writtenBeforeCrash.length = 0;
    this.committed.clear();
  }

  wrap(database: Database): Database {
    return interceptQueries(database, async (text, params) => {
      const called = /absurd\.(\w+)\(/.exec(text)?.[1];
      if (called) this.calls.push(called);
      if (text.includes('absurd.claim_task(') && this.crashed) {
        // A new claim is a new process: whatever crashed before is gone.
        this.crashed = false;
        this.recording = false;
      }
      const isCheckpointWrite = text.includes('absurd.set_task_checkpoint_state(');
      if (isCheckpointWrite && this.crashed) throw new SimulatedCrash(String(params?.[2]));
      const recordingWhenSent = this.recording;
      const result = await database.query(text, params);
      if (isCheckpointWrite && recordingWhenSent) this.committed.add(String(params?.[2]));
      if (isCheckpointWrite && this.remaining !== undefined) {
        this.writtenBeforeCrash.push(String(params?.[2]));
        this.remaining -= 1;
        if (this.remaining === 0) {
          this.crashed = true;
          this.remaining = undefined;
          throw new SimulatedCrash(String(params?.[2]));
        }
      }
      return result;
    });
  }
}

/** `database` with every query going through `query` (which may call the database itself, or not). */
export function interceptQueries(database: Database, query: Database['query']): Database {
  return {
    kind: database.kind,
    transaction: (fn) => database.transaction(fn),
    listen: (channel, onNotify) => database.listen(channel, onNotify),
    ready: () => database.ready(),
    close: () => database.close(),
    query,
  };
}

export interface AgentHarness {
  readonly database: TestDatabase;
  readonly absurd: Absurd;
  readonly crash: CrashSwitch;
  /** Spawns `taskName` and works the queue until the task is completed, failed or cancelled. */
  run(
    taskName: string,
    params: unknown,
    options?: { claimTimeout?: number; maxRuns?: number; maxAttempts?: number },
  ): Promise<{ taskID: string; snapshot: TaskResultSnapshot }>;
  /** Checkpoint names of a task, in the order they were written. */
  checkpoints(taskID: string): Promise<Array<{ name: string; state: any }>>;
  close(): Promise<void>;
}

export async function openAgentHarness(): Promise<AgentHarness> {
  const database = await createTestDatabase();
  const crash = new CrashSwitch();
  const { database: opened } = openDatabase(database.db);
  const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: crash.wrap(opened), queueName: uniqueQueueName('agent'), log: silentLog });
  await absurd.createQueue();
  return {
    database,
    absurd,
    crash,
    async run(taskName, params, options = {}) {
      const { taskID } = await absurd.spawn(taskName, params, options.maxAttempts ? { maxAttempts: options.maxAttempts } : {});
      const maxRuns = options.maxRuns ?? 10;
      for (let runs = 0; runs < maxRuns; runs++) {
        await absurd.workBatch('agent-test', options.claimTimeout ?? 60, 1);
        const snapshot = await absurd.fetchTaskResult(taskID);
        if (snapshot && ['completed', 'failed', 'cancelled'].includes(snapshot.state)) return { taskID, snapshot };
      }
      return { taskID, snapshot: (await absurd.fetchTaskResult(taskID))! };
    },
    async checkpoints(taskID) {
      const { rows } = await database.query(
        `select checkpoint_name as name, state from absurd.c_${absurd.queue} where task_id = $1 order by updated_at, checkpoint_name`,
        [taskID],
      );
      return rows;
    },
    async close() {
      await absurd.close();
      await opened.close();
      await database.close();
    },
  };
}

/** The recorded failure of a failed task. */
export function failureOf(snapshot: TaskResultSnapshot): { name: string; message: string } {
  if (snapshot.state !== 'failed') throw new Error(`expected a failed task, got ${JSON.stringify(snapshot)}`);
  return snapshot.failure as { name: string; message: string };
}

/** The attempt number of the task execution in progress (0 outside a task). */
export function currentAttempt(): number {
  return getCurrentTask()?.attempt ?? 0;
}

export const mockUsage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** One scripted model turn. */
export interface ScriptedTurn {
  readonly text?: string;
  readonly toolCalls?: ReadonlyArray<{ readonly toolCallId: string; readonly toolName: string; readonly input: unknown }>;
  /** Response metadata the "provider" reports; without it the provider reports none. */
  readonly response?: { readonly id: string; readonly timestamp: Date; readonly modelId: string };
}

/** Decides a turn from the request; it must not count calls, so a replayed request gets the same turn. */
export type TurnScript = (options: LanguageModelV4CallOptions) => ScriptedTurn;

/** A mock model that answers both `doGenerate` and `doStream` from `script`. */
export function scriptedModel(script: TurnScript, identity: { provider?: string; modelId?: string } = {}): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    ...identity,
    doGenerate: async (options) => generateResult(script(options)),
    doStream: async (options) => ({ stream: streamOf(streamParts(script(options))) }),
  });
}

export function generateResult(turn: ScriptedTurn): LanguageModelV4GenerateResult {
  const content: LanguageModelV4Content[] = [];
  if (turn.text !== undefined) content.push({ type: 'text', text: turn.text });
  for (const call of turn.toolCalls ?? []) {
    content.push({ type: 'tool-call', toolCallId: call.toolCallId, toolName: call.toolName, input: JSON.stringify(call.input) });
  }
  return {
    content,
    finishReason: { unified: turn.toolCalls?.length ? 'tool-calls' : 'stop', raw: undefined },
    usage: mockUsage,
    warnings: [],
    ...(turn.response ? { response: { ...turn.response } } : {}),
  };
}

export function streamParts(turn: ScriptedTurn): LanguageModelV4StreamPart[] {
  const parts: LanguageModelV4StreamPart[] = [{ type: 'stream-start', warnings: [] }];
  if (turn.response) parts.push({ type: 'response-metadata', ...turn.response });
  if (turn.text !== undefined) {
    parts.push({ type: 'text-start', id: 'text-1' });
    for (const word of turn.text.split(/(?<= )/)) parts.push({ type: 'text-delta', id: 'text-1', delta: word });
    parts.push({ type: 'text-end', id: 'text-1' });
  }
  for (const call of turn.toolCalls ?? []) {
    const input = JSON.stringify(call.input);
    parts.push({ type: 'tool-input-start', id: call.toolCallId, toolName: call.toolName });
    parts.push({ type: 'tool-input-delta', id: call.toolCallId, delta: input });
    parts.push({ type: 'tool-input-end', id: call.toolCallId });
    parts.push({ type: 'tool-call', toolCallId: call.toolCallId, toolName: call.toolName, input });
  }
  parts.push({
    type: 'finish',
    finishReason: { unified: turn.toolCalls?.length ? 'tool-calls' : 'stop', raw: undefined },
    usage: mockUsage,
  });
  return parts;
}

export function streamOf<T>(parts: readonly T[]): ReadableStream<T> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

/** How many assistant turns the prompt already holds: 0 for the first model call of a run. */
export function turnIndex(options: LanguageModelV4CallOptions): number {
  return options.prompt.filter((message) => message.role === 'assistant').length;
}

/** The text of the tool results in the prompt, in order (what the model was told). */
export function toolOutputsInPrompt(options: LanguageModelV4CallOptions): string[] {
  return options.prompt.flatMap((message) =>
    message.role === 'tool'
      ? message.content.flatMap((part) => (part.type === 'tool-result' ? [JSON.stringify(part.output)] : []))
      : [],
  );
}

// Fields that differ between two processes by nature: `callId` is a random id the SDK gives each
// generate/stream call, and `performance` holds wall-clock timings.
const perProcessKeys = new Set(['callId', 'performance']);

/** A plain, deep-comparable copy of a value without per-process fields. */
export function withoutPerProcessFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPerProcessFields);
  if (value instanceof Date || value instanceof Uint8Array || value instanceof Error || value instanceof URL) return value;
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (!perProcessKeys.has(key)) copy[key] = withoutPerProcessFields(item);
    return copy;
  }
  return value;
}

function stepSnapshot(step: StepResult<any>) {
  return {
    stepNumber: step.stepNumber,
    model: step.model,
    content: step.content,
    text: step.text,
    reasoning: step.reasoning,
    files: step.files,
    sources: step.sources,
    toolCalls: step.toolCalls,
    toolResults: step.toolResults,
    finishReason: step.finishReason,
    rawFinishReason: step.rawFinishReason,
    usage: step.usage,
    warnings: step.warnings,
    request: step.request,
    response: step.response,
    providerMetadata: step.providerMetadata,
  };
}

/** Everything a caller can read from a generate result, as plain data. */
export function snapshotGenerateResult(result: GenerateTextResult<any, any, any>) {
  return withoutPerProcessFields({
    text: result.text,
    content: result.content,
    toolCalls: result.toolCalls,
    toolResults: result.toolResults,
    finishReason: result.finishReason,
    usage: result.usage,
    warnings: result.warnings,
    response: result.response,
    responseMessages: result.responseMessages,
    steps: result.steps.map(stepSnapshot),
  });
}

/**
 * In a stream, tools that run concurrently report their results in the order they finish, which varies
 * from run to run in any AI SDK agent (`responseMessages` and the next prompt keep model order). Each run
 * of consecutive tool results is put in tool call id order.
 */
function inCompletionIndependentOrder<T>(parts: T[]): T[] {
  const ordered: T[] = [];
  let results: Array<{ toolCallId: string }> = [];
  const flush = () => {
    ordered.push(...(results.sort((a, b) => a.toolCallId.localeCompare(b.toolCallId)) as T[]));
    results = [];
  };
  for (const part of parts as Array<{ type: string; toolCallId: string }>) {
    if (part.type === 'tool-result' || part.type === 'tool-error') {
      results.push(part);
      continue;
    }
    flush();
    ordered.push(part as T);
  }
  flush();
  return ordered;
}

/** Everything a caller can read from a stream result, the full part stream included, as plain data. */
export async function snapshotStreamResult(result: StreamTextResult<any, any, any>) {
  const parts: unknown[] = [];
  // The SDK gives text and reasoning parts random stream-unique ids: keep their identity, not their value.
  const partIds = new Map<string, string>();
  for await (const part of result.stream) {
    if (/^(text|reasoning)-(start|delta|end)$/.test(part.type) && 'id' in part) {
      if (!partIds.has(part.id)) partIds.set(part.id, `stream-id-${partIds.size + 1}`);
      parts.push({ ...part, id: partIds.get(part.id) });
    } else {
      parts.push(part);
    }
  }
  const steps = await result.steps;
  return withoutPerProcessFields({
    parts: inCompletionIndependentOrder(parts),
    text: await result.text,
    content: inCompletionIndependentOrder(await result.content),
    toolCalls: await result.toolCalls,
    toolResults: inCompletionIndependentOrder(await result.toolResults),
    finishReason: await result.finishReason,
    usage: await result.usage,
    response: await result.response,
    responseMessages: await result.responseMessages,
    steps: steps.map((step) => {
      const snapshot = stepSnapshot(step);
      return { ...snapshot, content: inCompletionIndependentOrder(snapshot.content), toolResults: inCompletionIndependentOrder(snapshot.toolResults) };
    }),
  });
}
