// One `doStream` call as one checkpoint. Parts are forwarded live while they are recorded; the
// `finish` part is held back until the checkpoint is written, because the AI SDK runs tools on it.
// On replay the recorded parts are emitted again. A stream that errors or ends without `finish` is
// not recorded, and its error ends the run so that Absurd retries the task.
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
} from '@ai-sdk/provider';
import { generateId } from 'ai';
import { modelCallFingerprint } from './model-call-fingerprint.ts';
import { checkRecordedCallKind } from './model-call-kind.ts';
import { callWithRetries, completeModelCall, replayModelCall } from './model-checkpoint.ts';
import type { DurableSettings, ModelCallSlot, RunScope } from './run-scope.ts';
import { enterInFlight } from './task-heartbeat.ts';
import { startModelWork } from './model-generate-step.ts';
import { noteRequestedToolCalls } from './tool-call-step.ts';

/** What a stream checkpoint holds. */
interface RecordedStream {
  readonly parts: LanguageModelV4StreamPart[];
  readonly request?: LanguageModelV4StreamResult['request'];
  readonly response?: LanguageModelV4StreamResult['response'];
}

export async function durableStream(options: {
  scope: RunScope;
  settings: DurableSettings;
  params: LanguageModelV4CallOptions;
  model: LanguageModelV4;
  doStream: () => PromiseLike<LanguageModelV4StreamResult>;
}): Promise<LanguageModelV4StreamResult> {
  const { scope, settings, params, model } = options;
  const slot = await scope.beginModelCall(modelCallFingerprint(params, model, scope.promptDigests));
  if (slot.handle.done) {
    checkRecordedCallKind(scope, slot, 'stream');
    const recorded = replayModelCall({ scope, settings, slot, call: 'stream' }) as RecordedStream;
    const toolCallIds = recorded.parts.flatMap((part) => (part.type === 'tool-call' ? [part.toolCallId] : []));
    noteRequestedToolCalls(scope, slot.number, toolCallIds, params.abortSignal);
    return {
      stream: replayedStream(recorded.parts, enterInFlight(scope.task)),
      ...(recorded.request ? { request: recorded.request } : {}),
      ...(recorded.response ? { response: recorded.response } : {}),
    };
  }

  const work = await startModelWork(scope, slot);
  const startedAt = new Date();
  const leaveInFlight = enterInFlight(scope.task);
  // Ends when the checkpoint is written, the stream fails or the consumer stops reading (each once).
  // An aborted run ends it too, so no sibling's wait is held by a stream nobody finishes.
  const leave = () => {
    params.abortSignal?.removeEventListener('abort', leave);
    leaveInFlight();
    work.end();
  };
  params.abortSignal?.addEventListener('abort', leave, { once: true });
  let called: { value: LanguageModelV4StreamResult; attempts: number };
  try {
    called = await callWithRetries(settings, params.abortSignal, options.doStream);
  } catch (error) {
    leave();
    scope.releaseModelCall(slot);
    throw error;
  }
  const { stream, request, response } = called.value;
  const { body: _requestBody, ...keptRequest } = request ?? {};
  const recording = recordStream({
    scope,
    settings,
    slot,
    model,
    startedAt,
    attempts: called.attempts,
    abortSignal: params.abortSignal,
    leave,
    request: request ? keptRequest : undefined,
    response,
  });
  return {
    stream: stream.pipeThrough(recording),
    ...(request ? { request: keptRequest } : {}),
    ...(response ? { response } : {}),
  };
}

function recordStream(options: {
  scope: RunScope;
  settings: DurableSettings;
  slot: ModelCallSlot;
  model: LanguageModelV4;
  startedAt: Date;
  attempts: number;
  abortSignal: AbortSignal | undefined;
  leave: () => void;
  request: LanguageModelV4StreamResult['request'];
  response: LanguageModelV4StreamResult['response'];
}): TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart> {
  const { scope, slot, model } = options;
  const parts: LanguageModelV4StreamPart[] = [];
  let state: 'streaming' | 'finished' | 'failed' = 'streaming';
  let sentMetadata = false;

  const fail = (error: unknown) => {
    state = 'failed';
    options.leave();
    scope.fail(error);
  };
  // The SDK invents an id and timestamp when no response-metadata part arrives; pin them instead.
  const ensureMetadata = (controller: TransformStreamDefaultController<LanguageModelV4StreamPart>) => {
    if (sentMetadata) return;
    sentMetadata = true;
    const metadata: LanguageModelV4StreamPart = {
      type: 'response-metadata',
      id: generateId(),
      timestamp: new Date(),
      modelId: model.modelId,
    };
    parts.push(metadata);
    controller.enqueue(metadata);
  };

  // `cancel` (the consumer stopped reading) is part of the Streams standard and of Node, but not yet of
  // TypeScript's DOM types, hence the widened type.
  const transformer: Transformer<LanguageModelV4StreamPart, LanguageModelV4StreamPart> & { cancel(): void } = {
    async transform(part, controller) {
      if (state === 'failed') return;
      if (state === 'finished' || part.type === 'raw' || part.type === 'ping') {
        controller.enqueue(part);
        return;
      }
      switch (part.type) {
        case 'error':
          fail(part.error);
          controller.enqueue(part);
          return;
        case 'stream-start':
          parts.push(part);
          controller.enqueue(part);
          return;
        case 'response-metadata': {
          const pinned: LanguageModelV4StreamPart = {
            ...part,
            id: part.id ?? generateId(),
            timestamp: part.timestamp ?? new Date(),
            modelId: part.modelId ?? model.modelId,
          };
          sentMetadata = true;
          parts.push(pinned);
          controller.enqueue(pinned);
          return;
        }
        case 'finish': {
          ensureMetadata(controller);
          parts.push(part);
          try {
            await completeModelCall({
              scope,
              settings: options.settings,
              slot,
              call: 'stream',
              model,
              startedAt: options.startedAt,
              attempts: options.attempts,
              finishReason: part.finishReason,
              usage: part.usage,
              response: {
                parts,
                ...(options.request ? { request: options.request } : {}),
                ...(options.response ? { response: options.response } : {}),
              } satisfies RecordedStream,
            });
          } catch (error) {
            fail(error);
            controller.error(error);
            return;
          }
          state = 'finished';
          options.leave();
          controller.enqueue(part);
          return;
        }
        default:
          ensureMetadata(controller);
          if (part.type === 'tool-call') noteRequestedToolCalls(scope, slot.number, [part.toolCallId], options.abortSignal);
          parts.push(part);
          controller.enqueue(part);
      }
    },
    flush() {
      if (state !== 'streaming') return;
      fail(
        new Error(
          `The model stream of checkpoint "${slot.stepName}" ended without a finish part, so it was not checkpointed; ` +
            `the task fails and Absurd retries it.`,
        ),
      );
    },
    cancel() {
      // The consumer stopped reading: nothing is recorded, and a replay calls the model again.
      options.leave();
    },
  };
  return new TransformStream(transformer);
}

/**
 * The recorded parts as a stream the consumer pulls one part at a time. Until the last part is pulled
 * (or the consumer stops reading) the call counts as in flight, so a slow consumer of a replayed step
 * keeps the lease as it would during the live call.
 */
function replayedStream(parts: LanguageModelV4StreamPart[], leave: () => void): ReadableStream<LanguageModelV4StreamPart> {
  let next = 0;
  return new ReadableStream<LanguageModelV4StreamPart>(
    {
      pull(controller) {
        if (next < parts.length) controller.enqueue(parts[next++]!);
        if (next < parts.length) return;
        leave();
        controller.close();
      },
      cancel() {
        leave();
      },
    },
    { highWaterMark: 0 },
  );
}
