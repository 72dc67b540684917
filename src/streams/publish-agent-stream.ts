// Publishes the UI message chunks of an agent's stream result to the task's durable stream as they are
// produced, from a branch of the result of its own, so the caller's reading is neither needed nor changed.
import type { StreamTextResult, UIMessage, UIMessageChunk, UIMessageStreamOptions } from 'ai';
import type { CurrentTask } from '../client/current-task.ts';
import { TaskStreamPublisher } from './task-stream-publisher.ts';

/** How `stream()` writes the task's durable stream: the `toUIMessageStream()` options that shape its chunks. */
export type DurableStreamOptions = Pick<
  UIMessageStreamOptions<UIMessage>,
  'sendReasoning' | 'sendSources' | 'sendFinish' | 'messageMetadata' | 'onError' | 'generateMessageId'
>;

/** `true` (the default) publishes with the default chunks, `false` does not publish, options shape the chunks. */
export type DurableStreamSetting = boolean | DurableStreamOptions;

/** The run whose stream is published: a publishing failure ends it, and its own failure is not published. */
export interface PublishedRun {
  readonly failed: { readonly error: unknown } | undefined;
  fail(error: unknown): void;
}

/**
 * Starts publishing `result` and returns it with every promise it hands out (and every stream, at its end)
 * settling only once the chunks are stored, so a handler that awaits its result completes with them.
 */
export function publishAgentStream<RESULT extends StreamTextResult<any, any, any>>(
  result: RESULT,
  options: {
    readonly publisher: TaskStreamPublisher;
    readonly run: PublishedRun;
    readonly settings: DurableStreamOptions;
    /**
     * Counts a stream handed to the caller as work in flight until it ends or is cancelled (the lease is
     * renewed meanwhile): a slow reader of a replayed stream reads long after the chunks were published.
     */
    readonly holdLease: () => () => void;
  },
): RESULT {
  const { publisher, run, settings, holdLease } = options;
  // The caller's own `toUIMessageStream()` with the same (default) options reads a branch of this one, so
  // the chunks are converted once for both.
  const [chunks, spare] = result.toUIMessageStream(settings).tee();
  const published = (async () => {
    const reader = chunks.getReader();
    try {
      const publish = await publisher.ready();
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        // A run that failed is retried or fails the task; readers learn of it from the task, not from here.
        if ((chunk.type === 'error' || chunk.type === 'abort') && run.failed) continue;
        publish(chunk);
      }
    } catch (error) {
      // Cancelling one branch of a tee settles only once every branch is cancelled: do not wait for it.
      reader.cancel(error).catch(() => {});
      throw error;
    } finally {
      await publisher.flush();
    }
  })();
  const shared = sharedBranches(spare, published);
  published.catch((error: unknown) => run.fail(error));
  const sameOptions = (args: unknown[]) =>
    Object.keys(settings).length === 0 && (args[0] === undefined || Object.keys(args[0] as object).length === 0);
  return settlingAfter(result, published, holdLease, (property, args) =>
    property === 'toUIMessageStream' && sameOptions(args) ? shared() : undefined,
  );
}

/**
 * Hands out `stream` once, closing once `published` settled, then `undefined` (a later caller converts
 * afresh, as the AI SDK does for each call). A stream cancelled by its reader lets go at once (a tee
 * branch alone would wait for the others).
 */
function sharedBranches<T>(stream: ReadableStream<T>, published: Promise<void>): () => ReadableStream<T> | undefined {
  let spare: ReadableStream<T> | undefined = stream;
  return () => {
    const branch = spare;
    if (!branch) return undefined;
    spare = undefined;
    const reader = branch.getReader();
    return new ReadableStream<T>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
        await published;
        controller.close();
      },
      cancel(reason) {
        reader.cancel(reason).catch(() => {});
      },
    });
  };
}

/** Starts loading what earlier attempts of `task` published, before the run's first chunk is produced. */
export function taskStreamPublisher(task: CurrentTask): TaskStreamPublisher {
  return TaskStreamPublisher.of(task);
}

function settlingAfter<T extends object>(
  target: T,
  published: Promise<void>,
  holdLease: () => () => void,
  /** A value to return, already settling after `published`, instead of calling the method. */
  substitute: (property: PropertyKey, args: unknown[]) => unknown,
): T {
  const settle = (value: unknown): unknown => {
    if (isPromiseLike(value)) {
      return Promise.resolve(value).then(
        async (resolved) => {
          await published;
          return resolved;
        },
        async (error: unknown) => {
          await published.catch(() => {});
          throw error;
        },
      );
    }
    if (value instanceof ReadableStream) {
      const leave = holdLease();
      const reader = value.getReader();
      return new ReadableStream({
        async pull(controller) {
          const { done, value: chunk } = await reader.read();
          if (!done) {
            controller.enqueue(chunk);
            return;
          }
          try {
            await published;
          } finally {
            leave();
          }
          controller.close();
        },
        cancel(reason) {
          leave();
          return reader.cancel(reason);
        },
      });
    }
    return value;
  };
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value === 'function') {
        return (...args: unknown[]) => substitute(property, args) ?? settle((value as (...a: unknown[]) => unknown).apply(object, args));
      }
      return settle(value);
    },
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value != null && typeof (value as { then?: unknown }).then === 'function';
}
