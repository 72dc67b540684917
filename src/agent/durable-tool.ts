// Tools whose every execution is an Absurd checkpoint keyed by the model's tool call id. Tools that run
// concurrently checkpoint independently; a replay returns the recorded value or throws the recorded error.
import type { Tool, ToolExecutionOptions, ToolSet } from 'ai';
import type { RunBinding } from './run-scope.ts';
import { enterStandaloneCall, standaloneBinding, type DurableCallOptions } from './standalone-binding.ts';
import { openToolCall } from './tool-call-step.ts';

export type DurableToolOptions = Omit<DurableCallOptions, 'maxRetries'>;

type Execute = (input: unknown, options: ToolExecutionOptions<unknown>) => unknown;

const durableToolMarker = Symbol.for('ai-sdk-absurd.durable-tool');

interface DurableToolMark {
  readonly tool: Tool;
  readonly binding: RunBinding;
}

/** Makes each tool in `tools` durable; checkpoints are named after `name` and the tool call ids. */
export function durableTools<TOOLS extends ToolSet>(tools: TOOLS, options: DurableToolOptions): TOOLS {
  return bindTools(tools, standaloneBinding(options, 'Durable tool'));
}

/** Makes one tool durable; `toolName` must be the key the tool has in the tool set given to the model. */
export function durableTool<TOOL extends Tool>(tool: TOOL, options: DurableToolOptions & { readonly toolName: string }): TOOL {
  return bindTool(options.toolName, tool, standaloneBinding(options, 'Durable tool'));
}

/** Wraps every tool of a set for one binding. */
export function bindTools<TOOLS extends ToolSet>(tools: TOOLS, binding: RunBinding): TOOLS {
  const bound: Record<string, Tool> = {};
  for (const [toolName, tool] of Object.entries(tools)) bound[toolName] = bindTool(toolName, tool as Tool, binding);
  return bound as TOOLS;
}

/**
 * Wraps one tool's `execute`. Tools without one (answered by the client) and provider-executed tools
 * (covered by the model call's checkpoint) are returned unchanged; a durable tool is re-bound.
 */
export function bindTool<TOOL extends Tool>(toolName: string, tool: TOOL, binding: RunBinding): TOOL {
  const mark = (tool as Record<symbol, unknown>)[durableToolMarker] as DurableToolMark | undefined;
  if (mark?.binding === binding) return tool;
  const original = (mark?.tool ?? tool) as TOOL;
  const execute = original.execute as Execute | undefined;
  if (typeof execute !== 'function') return original;
  const wrapped = {
    ...original,
    execute: isAsyncGeneratorFunction(execute)
      ? durableStreamingExecute(toolName, execute, binding)
      : durableExecute(toolName, execute, binding),
  } as TOOL;
  Object.defineProperty(wrapped, durableToolMarker, { value: { tool: original, binding } satisfies DurableToolMark });
  return wrapped;
}

function durableExecute(toolName: string, execute: Execute, binding: RunBinding) {
  return async (input: unknown, options: ToolExecutionOptions<unknown>): Promise<unknown> => {
    const execution = await openExecution(toolName, binding, input, options);
    try {
      const { opened } = execution;
      if (opened.replayed) return replayedOutcome(opened);
      const { call } = opened;
      let output: unknown;
      try {
        output = await call.run(() => execute(input, options));
        // A plain function may still return an async iterable: keep its final value.
        if (isAsyncIterable(output)) output = await call.run(() => lastValue(output as AsyncIterable<unknown>));
      } catch (thrown) {
        throw await call.fail(thrown);
      }
      return await call.succeed(output);
    } finally {
      execution.end();
    }
  };
}

/** Async-generator tools: yields are forwarded live, the final value is checkpointed and is all a replay yields. */
function durableStreamingExecute(toolName: string, execute: Execute, binding: RunBinding) {
  return async function* (input: unknown, options: ToolExecutionOptions<unknown>): AsyncGenerator<unknown> {
    // The consumer may stop iterating early; the call is then no longer in flight.
    const execution = await openExecution(toolName, binding, input, options);
    try {
      const { opened } = execution;
      if (opened.replayed) {
        yield replayedOutcome(opened);
        return;
      }
      const { call } = opened;
      let last: unknown;
      try {
        const iterator = call.run(() => (execute(input, options) as AsyncIterable<unknown>)[Symbol.asyncIterator]());
        for (;;) {
          const next = await call.run(() => iterator.next());
          if (next.done) break;
          last = next.value;
          yield next.value;
        }
      } catch (thrown) {
        throw await call.fail(thrown);
      } finally {
        call.release();
      }
      await call.succeed(last);
    } finally {
      execution.end();
    }
  };
}

type OpenedToolCall = Awaited<ReturnType<typeof openToolCall>>;

interface ToolExecution {
  readonly opened: OpenedToolCall;
  /** Closes a live call and marks the call as no longer in flight; called once, however the execution ends. */
  end(): void;
}

// Both executors enter the run the same way: counted as in flight from before the checkpoint is opened until
// they end, including when opening it fails.
async function openExecution(
  toolName: string,
  binding: RunBinding,
  input: unknown,
  options: ToolExecutionOptions<unknown>,
): Promise<ToolExecution> {
  const context = binding();
  const tracked = enterStandaloneCall(context.scope, 'tool');
  let opened: OpenedToolCall;
  try {
    opened = await openToolCall(context, toolName, input, options);
  } catch (error) {
    tracked?.leave();
    throw error;
  }
  return {
    opened,
    end() {
      if (!opened.replayed) opened.call.close();
      tracked?.leave();
    },
  };
}

/** The recorded outcome of a replayed call: its value, or its error thrown again. */
function replayedOutcome(opened: Extract<OpenedToolCall, { replayed: true }>): unknown {
  if (opened.outcome === 'error') throw opened.value;
  return opened.value;
}

async function lastValue(iterable: AsyncIterable<unknown>): Promise<unknown> {
  let last: unknown;
  for await (const value of iterable) last = value;
  return last;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value != null && typeof value === 'object' && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function isAsyncGeneratorFunction(fn: Function): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';
}
