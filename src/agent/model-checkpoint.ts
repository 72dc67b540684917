// Writing and reading the checkpoint of one model call, shared by the generate and stream paths.
import type { LanguageModelV4, LanguageModelV4FinishReason, LanguageModelV4Usage } from '@ai-sdk/provider';
import { prepareRetries } from 'ai/internal';
import { ReplayDivergenceError } from '../errors/replay-divergence-error.ts';
import { decodePayload, encodePayload, type ModelCallCheckpoint } from './checkpoint-format.ts';
import { completeCheckpoint } from './checkpoint-store.ts';
import type { DurableSettings, ModelCallSlot, RunScope } from './run-scope.ts';

type ModelIdentity = Pick<LanguageModelV4, 'provider' | 'modelId'>;

/**
 * Runs one provider call, retrying retryable errors (`APICallError.isRetryable`) with the AI SDK's own
 * exponential backoff. The retries happen inside one checkpoint slot, so they never shift later names.
 */
export async function callWithRetries<T>(
  settings: DurableSettings,
  abortSignal: AbortSignal | undefined,
  call: () => PromiseLike<T>,
): Promise<{ value: T; attempts: number }> {
  const { retry } = prepareRetries({ maxRetries: settings.maxRetries, abortSignal });
  let attempts = 0;
  const value = await retry(() => {
    attempts++;
    return call();
  });
  return { value, attempts };
}

/** Encodes and writes a model call's checkpoint, and returns the response as a replay would see it. */
export async function completeModelCall(options: {
  scope: RunScope;
  settings: DurableSettings;
  slot: ModelCallSlot;
  call: 'generate' | 'stream';
  model: ModelIdentity;
  startedAt: Date;
  attempts: number;
  finishReason: LanguageModelV4FinishReason | undefined;
  usage: LanguageModelV4Usage | undefined;
  response: unknown;
}): Promise<unknown> {
  const { scope, slot } = options;
  try {
    const encoded = encodePayload(options.response, {
      stepName: slot.stepName,
      subject: `the response of model "${options.model.modelId}"`,
      maxBytes: options.settings.maxCheckpointBytes,
    });
    const record: ModelCallCheckpoint = {
      kind: 'model-call',
      call: options.call,
      fingerprint: slot.fingerprint,
      provider: options.model.provider,
      modelId: options.model.modelId,
      startedAt: options.startedAt.toISOString(),
      durationMs: Date.now() - options.startedAt.getTime(),
      attempts: options.attempts,
      finishReason: options.finishReason?.unified ?? null,
      usage: checkpointUsage(options.usage),
      response: encoded,
    };
    await completeCheckpoint(scope.task, slot.handle, record);
    return decodePayload(encoded, slot.stepName);
  } catch (error) {
    // A checkpoint that cannot be written ends the run: continuing would not be durable.
    scope.fail(error);
    throw error;
  }
}

/** The token counts a model-call checkpoint keeps (null where the provider did not report one). */
export function checkpointUsage(usage: LanguageModelV4Usage | undefined): ModelCallCheckpoint['usage'] {
  return {
    inputTokens: usage?.inputTokens.total ?? null,
    outputTokens: usage?.outputTokens.total ?? null,
    reasoningTokens: usage?.outputTokens.reasoning ?? null,
    cachedInputTokens: usage?.inputTokens.cacheRead ?? null,
    cacheWriteTokens: usage?.inputTokens.cacheWrite ?? null,
  };
}

/** Reads a recorded model call, checking that it is the call being made now. */
export function replayModelCall(options: {
  scope: RunScope;
  settings: DurableSettings;
  slot: ModelCallSlot;
  call: 'generate' | 'stream';
}): unknown {
  const { scope, slot } = options;
  const record = slot.handle.state as Partial<ModelCallCheckpoint> | null;
  if (record?.kind !== 'model-call' || (record.call !== options.call && record.call !== undefined)) {
    const recorded = record?.kind === 'model-call' ? `a ${record.call} call` : 'not a model call';
    const error = new ReplayDivergenceError({
      taskID: scope.task.taskID,
      stepName: slot.stepName,
      expected: slot.fingerprint,
      recorded: typeof record?.fingerprint === 'string' ? record.fingerprint : 'none',
      detail: `a ${options.call} model call is being replayed, but the checkpoint holds ${recorded}`,
    });
    scope.fail(error);
    throw error;
  }
  scope.checkReplay({
    policy: options.settings.replayDivergence,
    stepName: slot.stepName,
    expected: slot.fingerprint,
    recorded: record.fingerprint,
    detail: 'the prompt, tool definitions, tool choice, model or call settings differ',
  });
  try {
    return decodePayload(record.response, slot.stepName);
  } catch (error) {
    scope.fail(error);
    throw error;
  }
}
