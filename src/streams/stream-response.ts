import { createUIMessageStreamResponse } from 'ai';
import type { Database } from '../db/database.ts';
import { readStream, type ReadStreamOptions } from './read-stream.ts';

export interface StreamResponseOptions extends ReadStreamOptions {
  headers?: HeadersInit;
  status?: number;
}

/**
 * A standard `Response` carrying the task's durable UI message stream as server-sent events, the
 * format `useChat` and `DefaultChatTransport` read. Check that the caller may read the task first.
 */
export async function streamResponse(database: Database, queue: string, taskID: string, options: StreamResponseOptions = {}): Promise<Response> {
  const stream = readStream(database, queue, taskID, options);
  // Surface an unknown task as an error here, not as a broken response body.
  const reader = stream.getReader();
  const first = await reader.read();
  const rest = new ReadableStream({
    start(controller) {
      if (!first.done) controller.enqueue(first.value);
      else controller.close();
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return createUIMessageStreamResponse({ stream: rest, headers: options.headers, status: options.status });
}
