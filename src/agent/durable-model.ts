// A language model whose every `doGenerate` / `doStream` call is an Absurd checkpoint, built with the
// AI SDK's own `wrapLanguageModel`, so it works with `generateText`, `streamText` and any agent.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LanguageModelV4, LanguageModelV4Middleware } from '@ai-sdk/provider';
import { wrapLanguageModel, type LanguageModel } from 'ai';
import { resolveLanguageModel } from 'ai/internal';
import { durableGenerate } from './model-generate-step.ts';
import { durableStream } from './model-stream-step.ts';
import type { RunBinding } from './run-scope.ts';
import { standaloneBinding, type DurableCallOptions } from './standalone-binding.ts';

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
 */
export function absurdModelMiddleware(options: DurableModelOptions): LanguageModelV4Middleware {
  return createDurableMiddleware(standaloneBinding(options, 'Durable model'));
}

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
      return durableGenerate({
        scope,
        settings,
        params,
        model,
        doGenerate: () => durableCallInProgress.run(true, doGenerate),
      });
    },
    async wrapStream({ doStream, params, model }) {
      if (durableCallInProgress.getStore()) return doStream();
      const { scope, settings } = binding();
      return durableStream({
        scope,
        settings,
        params,
        model,
        doStream: () => durableCallInProgress.run(true, doStream),
      });
    },
  };
}
