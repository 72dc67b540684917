// A language model whose every `doGenerate` / `doStream` call is an Absurd checkpoint, built with the
// AI SDK's own `wrapLanguageModel`, so it works with `generateText`, `streamText` and any agent.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LanguageModelV4, LanguageModelV4Middleware, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { wrapLanguageModel, type LanguageModel } from 'ai';
import { resolveLanguageModel } from 'ai/internal';
import { durableGenerate } from './model-generate-step.ts';
import { durableStream } from './model-stream-step.ts';
import type { RunBinding } from './run-scope.ts';
import { enterStandaloneCall, standaloneBinding, type DurableCallOptions, type StandaloneCall } from './standalone-binding.ts';

export type DurableModelOptions = DurableCallOptions;

const durableModelMarker = Symbol.for('ai-sdk-absurd.durable-model');

interface DurableModelMark {
  /** The model inside the durable wrapper. */
  readonly model: LanguageModelV4;
  readonly binding: RunBinding;
}

// Set while a durable model call is in progress: a durable model nested inside another (for example a
// model wrapped by hand with the middleware, then given to AbsurdAgent) passes the call straight through.
const durableCallInProgress = new AsyncLocalStorage<true>();

/**
 * The middleware behind `durableModel`, for composing with other middleware in `wrapLanguageModel`.
 * Checkpoints are named after `name`; calls outside an Absurd task throw NotInTaskError.
 *
 * @example
 * ```ts
 * const model = wrapLanguageModel({ model: openai('gpt-4.1'), middleware: [logging, durableModelMiddleware({ name: 'writer' })] });
 * ```
 */
export function durableModelMiddleware(options: DurableModelOptions): LanguageModelV4Middleware {
  return createDurableMiddleware(standaloneBinding(options, 'Durable model'));
}

/** @deprecated Renamed to `durableModelMiddleware` (every wrapper is `durable*`); this alias goes in the next minor version. */
export const absurdModelMiddleware = durableModelMiddleware;

/** Wraps `model` so that each of its calls is replayed from, or recorded in, a checkpoint of the current task. */
export function durableModel(model: LanguageModel, options: DurableModelOptions): LanguageModelV4 {
  return bindModel(model, standaloneBinding(options, 'Durable model'));
}

/** Wraps `model` for one binding; a model already durable is re-bound instead of wrapped twice. */
export function bindModel(model: LanguageModel, binding: RunBinding): LanguageModelV4 {
  const mark = durableModelMark(model);
  if (mark?.binding === binding) return model as LanguageModelV4;
  const inner = mark?.model ?? resolveLanguageModel(model);
  const wrapped = wrapLanguageModel({ model: inner, middleware: createDurableMiddleware(binding) });
  Object.defineProperty(wrapped, durableModelMarker, { value: { model: inner, binding } satisfies DurableModelMark });
  return wrapped;
}

/** True for a model returned by `durableModel` or used inside `AbsurdAgent`. */
export function isDurableModel(model: unknown): boolean {
  return durableModelMark(model) !== undefined;
}

function durableModelMark(model: unknown): DurableModelMark | undefined {
  return model !== null && typeof model === 'object'
    ? ((model as Record<symbol, unknown>)[durableModelMarker] as DurableModelMark | undefined)
    : undefined;
}

function createDurableMiddleware(binding: RunBinding): LanguageModelV4Middleware {
  return {
    specificationVersion: 'v4',
    async wrapGenerate({ doGenerate, params, model }) {
      if (durableCallInProgress.getStore()) return doGenerate();
      const { scope, settings } = binding();
      const call = enterStandaloneCall(scope, 'model');
      try {
        const result = await durableGenerate({
          scope,
          settings,
          params,
          model,
          doGenerate: () => durableCallInProgress.run(true, doGenerate),
        });
        if (result.content.some(asksForToolCall)) call?.continues();
        return result;
      } finally {
        call?.leave();
      }
    },
    async wrapStream({ doStream, params, model }) {
      if (durableCallInProgress.getStore()) return doStream();
      const { scope, settings } = binding();
      const call = enterStandaloneCall(scope, 'model');
      let result;
      try {
        result = await durableStream({
          scope,
          settings,
          params,
          model,
          doStream: () => durableCallInProgress.run(true, doStream),
        });
      } catch (error) {
        call?.leave();
        throw error;
      }
      return call ? { ...result, stream: result.stream.pipeThrough(trackedStream(call)) } : result;
    },
  };
}

/** A tool call the AI SDK runs itself, after which it makes the next model call. */
function asksForToolCall(part: { type: string; providerExecuted?: boolean }): boolean {
  return part.type === 'tool-call' && part.providerExecuted !== true;
}

/** Passes parts through, tells `call` when the stream asks for tool calls, and ends `call` with the stream. */
function trackedStream(call: StandaloneCall): TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart> {
  // `cancel` is part of the Streams standard and of Node, not yet of TypeScript's DOM types.
  const transformer: Transformer<LanguageModelV4StreamPart, LanguageModelV4StreamPart> & { cancel(): void } = {
    transform(part, controller) {
      if (asksForToolCall(part)) {
        try {
          call.continues();
        } catch (error) {
          call.leave();
          controller.error(error);
          return;
        }
      }
      controller.enqueue(part);
    },
    flush: () => call.leave(),
    cancel: () => call.leave(),
  };
  return new TransformStream(transformer);
}
