// One `doGenerate` call as one checkpoint: replayed from the checkpoint when it exists, otherwise
// called (with retries inside the step) and recorded before the agent loop sees the response.
import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4GenerateResult } from '@ai-sdk/provider';
import { generateId } from 'ai';
import { modelCallFingerprint } from './model-call-fingerprint.ts';
import { checkRecordedCallKind } from './model-call-kind.ts';
import { callWithRetries, completeModelCall, replayModelCall } from './model-checkpoint.ts';
import type { DurableSettings, ModelCallSlot, RunScope } from './run-scope.ts';
import { startWork, type GateWork } from '../client/suspension-gate.ts';
import { enterInFlight } from './task-heartbeat.ts';
import { noteRequestedToolCalls } from './tool-call-step.ts';

export async function durableGenerate(options: {
  scope: RunScope;
  settings: DurableSettings;
  params: LanguageModelV4CallOptions;
  model: LanguageModelV4;
  doGenerate: () => PromiseLike<LanguageModelV4GenerateResult>;
}): Promise<LanguageModelV4GenerateResult> {
  const { scope, settings, params, model } = options;
  const slot = await scope.beginModelCall(modelCallFingerprint(params, model, scope.promptDigests));
  if (slot.handle.done) {
    checkRecordedCallKind(scope, slot, 'generate');
    const result = replayModelCall({ scope, settings, slot, call: 'generate' }) as LanguageModelV4GenerateResult;
    noteRequestedToolCalls(scope, slot.number, toolCallIds(result), params.abortSignal);
    return result;
  }

  const work = await startModelWork(scope, slot);
  try {
    const startedAt = new Date();
    const leave = enterInFlight(scope.task);
    let called: { value: LanguageModelV4GenerateResult; attempts: number };
    try {
      called = await callWithRetries(settings, params.abortSignal, options.doGenerate);
    } catch (error) {
      scope.releaseModelCall(slot);
      throw error;
    } finally {
      leave();
    }
    const result = pinResponse(called.value, model);
    const recorded = (await completeModelCall({
      scope,
      settings,
      slot,
      call: 'generate',
      model,
      startedAt,
      attempts: called.attempts,
      finishReason: result.finishReason,
      usage: result.usage,
      response: result,
    })) as LanguageModelV4GenerateResult;
    noteRequestedToolCalls(scope, slot.number, toolCallIds(recorded), params.abortSignal);
    return recorded;
  } finally {
    work.end();
  }
}

/**
 * Registers a live model call with the task's suspension gate; once a sibling's wait has suspended the
 * task, the call is not made and the run ends with that suspension.
 */
export async function startModelWork(scope: RunScope, slot: ModelCallSlot): Promise<GateWork> {
  try {
    return await startWork(scope.task);
  } catch (error) {
    scope.releaseModelCall(slot);
    scope.fail(error);
    throw error;
  }
}

/**
 * Drops the request and response bodies (large, and the AI SDK keeps neither by default) and fills
 * the response id, timestamp and model id the SDK would otherwise invent after the call, differently
 * on every replay.
 */
function pinResponse(result: LanguageModelV4GenerateResult, model: LanguageModelV4): LanguageModelV4GenerateResult {
  const { request, response, ...rest } = result;
  const { body: _requestBody, ...keptRequest } = request ?? {};
  const { body: _responseBody, ...keptResponse } = response ?? {};
  return {
    ...rest,
    ...(request ? { request: keptRequest } : {}),
    response: {
      ...keptResponse,
      id: response?.id ?? generateId(),
      timestamp: response?.timestamp ?? new Date(),
      modelId: response?.modelId ?? model.modelId,
    },
  };
}

function toolCallIds(result: LanguageModelV4GenerateResult): string[] {
  return result.content.flatMap((part) => (part.type === 'tool-call' ? [part.toolCallId] : []));
}
