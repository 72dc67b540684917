// A local OpenAI-compatible HTTP server: the demo's scripted model, and the model the tests and examples talk to
// through the real `@ai-sdk/openai` provider. It answers the two endpoints that provider calls
// (`/v1/chat/completions` for `.chat()`, `/v1/responses` for the default model), streaming or not, from a
// deterministic script; it records every request and can inject faults. It listens on 127.0.0.1 unless told otherwise.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { readModelConversation } from './model-conversation.ts';
import type { ModelConversation, OpenAIApi } from './model-conversation.ts';
import {
  chatCompletionBody,
  chatCompletionEvents,
  renderReply,
  responsesBody,
  responsesEvents,
} from './openai-wire-format.ts';
import type { ModelScript, RenderedReply } from './openai-wire-format.ts';
import { scriptedAnalystReply } from './scripted-analyst.ts';

/** A fault the server applies instead of (or while) answering. */
export type ModelFault =
  /** 429 with a `retry-after` header. */
  | { readonly kind: 'rate-limit'; readonly retryAfterSeconds?: number }
  /** 500 with an OpenAI-style error body. */
  | { readonly kind: 'server-error' }
  /** Answers normally after `ms` milliseconds. */
  | { readonly kind: 'delay'; readonly ms: number }
  /**
   * Streams `afterEvents` events, then holds the connection open without finishing (a non-streaming request is
   * held before anything is written), until the client goes away or the server closes.
   */
  | { readonly kind: 'stall'; readonly afterEvents?: number };

export type InjectedFault = ModelFault & {
  /** How many matching requests the fault applies to (default 1). */
  readonly times?: number;
  /** Which requests it applies to (default: every request). */
  readonly match?: (conversation: ModelConversation) => boolean;
};

export type RequestOutcome = 'pending' | 'completed' | 'stalled' | 'failed' | 'aborted';

export interface RecordedModelRequest {
  /** Order of arrival, from 0. */
  readonly index: number;
  readonly api: OpenAIApi;
  readonly body: unknown;
  readonly conversation: ModelConversation;
  /** The fault applied to this request, if any. */
  readonly fault: ModelFault['kind'] | undefined;
  readonly reply: RenderedReply | undefined;
  status: number;
  outcome: RequestOutcome;
  /** Server-sent events written so far (streaming requests). */
  eventsSent: number;
}

export interface OpenAICompatibleServerOptions {
  /** Decides every reply; defaults to the demo's scripted analyst. */
  readonly script?: ModelScript;
  readonly faults?: readonly InjectedFault[];
  /** Characters per streamed text or argument delta (default 24). */
  readonly textChunkLength?: number;
  /** Pause between streamed events, for demos that should look like a live model (default 0). */
  readonly eventDelayMs?: number;
  /** How long the model "thinks" before every answer, so a person can follow a demo (default 0). */
  readonly replyDelayMs?: number;
  readonly host?: string;
  readonly port?: number;
}

export interface OpenAICompatibleServer {
  /** `http://host:port` */
  readonly url: string;
  /** What `createOpenAI({ baseURL })` takes: `http://host:port/v1`. */
  readonly baseURL: string;
  /** Every request received, in order of arrival; entries update as their responses progress. */
  readonly requests: readonly RecordedModelRequest[];
  /** Requests answered in full. */
  completedRequests(): RecordedModelRequest[];
  /**
   * Completed requests whose messages equal an earlier completed request's (same API): the model was asked the
   * same question twice, although the first answer had been delivered.
   */
  repeatedRequests(): RecordedModelRequest[];
  injectFault(fault: InjectedFault): void;
  /** Resolves with the first request (already received or still to come) that satisfies `predicate`. */
  waitForRequest(
    predicate: (request: RecordedModelRequest) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<RecordedModelRequest>;
  /** Stops listening and drops open connections, stalled streams included. */
  close(): Promise<void>;
}

const apiByPath: Record<string, OpenAIApi> = { '/v1/chat/completions': 'chat', '/v1/responses': 'responses' };

/**
 * Starts the server; point `createOpenAI({ baseURL: server.baseURL })` at it.
 *
 * @example
 * ```ts
 * import { createOpenAI } from '@ai-sdk/openai';
 *
 * const server = await startOpenAICompatibleServer({ script: () => ({ text: 'Hello.' }) });
 * const model = createOpenAI({ baseURL: server.baseURL, apiKey: 'local' })('scripted');
 * // ... generateText({ model, prompt }) ...
 * await server.close();
 * ```
 */
export async function startOpenAICompatibleServer(
  options: OpenAICompatibleServerOptions = {},
): Promise<OpenAICompatibleServer> {
  const script = options.script ?? scriptedAnalystReply;
  const textChunkLength = options.textChunkLength ?? 24;
  const eventDelayMs = options.eventDelayMs ?? 0;
  const replyDelayMs = options.replyDelayMs ?? 0;
  const faults: Array<{ fault: InjectedFault; remaining: number }> = (options.faults ?? []).map((fault) => ({
    fault,
    remaining: fault.times ?? 1,
  }));
  const requests: RecordedModelRequest[] = [];
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of [...watchers]) watcher();
  };

  const takeFault = (conversation: ModelConversation): ModelFault | undefined => {
    const entry = faults.find((candidate) => candidate.remaining > 0 && (candidate.fault.match?.(conversation) ?? true));
    if (!entry) return undefined;
    entry.remaining -= 1;
    return entry.fault;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const api = apiByPath[path];
    if (request.method !== 'POST' || !api) {
      sendError(response, 404, 'not_found', `No route for ${request.method} ${path}`);
      return;
    }
    let body: unknown;
    let conversation: ModelConversation;
    try {
      body = JSON.parse(await readBody(request));
      conversation = readModelConversation(api, body);
    } catch (error) {
      sendError(response, 400, 'invalid_request_error', (error as Error).message);
      return;
    }
    const fault = takeFault(conversation);
    let reply: RenderedReply | undefined;
    let scriptError: Error | undefined;
    try {
      reply = renderReply(conversation, script(conversation));
    } catch (error) {
      scriptError = error as Error;
    }
    const recorded: RecordedModelRequest = {
      index: requests.length,
      api,
      body,
      conversation,
      fault: fault?.kind,
      reply,
      status: 200,
      outcome: 'pending',
      eventsSent: 0,
    };
    requests.push(recorded);
    const settle = (outcome: RequestOutcome, status: number) => {
      recorded.outcome = outcome;
      recorded.status = status;
      notify();
    };
    // A client that disconnects before its answer is complete (for example a killed worker) aborted the request.
    response.on('close', () => {
      if (recorded.outcome === 'pending') settle('aborted', recorded.status);
    });
    notify();

    if (fault?.kind === 'rate-limit') {
      response.setHeader('retry-after', String(fault.retryAfterSeconds ?? 1));
      sendError(response, 429, 'rate_limit_exceeded', 'Rate limit reached; retry after the given delay.');
      settle('failed', 429);
      return;
    }
    if (fault?.kind === 'server-error') {
      sendError(response, 500, 'server_error', 'The server had an error while processing the request.');
      settle('failed', 500);
      return;
    }
    const waitMs = replyDelayMs + (fault?.kind === 'delay' ? fault.ms : 0);
    if (waitMs > 0) await delay(waitMs);
    // The client went away while the model was thinking: the request stays aborted.
    if (response.destroyed) return;
    if (!reply) {
      sendError(response, 400, 'invalid_request_error', `The script could not answer: ${scriptError?.message}`);
      settle('failed', 400);
      return;
    }
    if (fault?.kind === 'stall' && !conversation.stream) {
      response.flushHeaders();
      settle('stalled', 200);
      return;
    }
    if (!conversation.stream) {
      const json = JSON.stringify(api === 'chat' ? chatCompletionBody(reply) : responsesBody(reply));
      response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${recorded.index}` });
      response.end(json);
      settle('completed', 200);
      return;
    }
    const events = api === 'chat' ? chatCompletionEvents(reply, textChunkLength) : responsesEvents(reply, textChunkLength);
    const stallAfter = fault?.kind === 'stall' ? Math.min(fault.afterEvents ?? 0, events.length - 1) : undefined;
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': `req_${recorded.index}`,
    });
    for (const event of events) {
      if (stallAfter !== undefined && recorded.eventsSent >= stallAfter) {
        settle('stalled', 200);
        return;
      }
      if (response.destroyed) return;
      if (eventDelayMs > 0 && recorded.eventsSent > 0) await delay(eventDelayMs);
      const flushed = response.write(event);
      recorded.eventsSent += 1;
      notify();
      if (!flushed) await new Promise((resolve) => response.once('drain', resolve));
    }
    response.end();
    settle('completed', 200);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, 'server_error', String(error));
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    completedRequests: () => requests.filter((request) => request.outcome === 'completed'),
    repeatedRequests() {
      const seen = new Set<string>();
      const repeated: RecordedModelRequest[] = [];
      for (const request of requests) {
        if (request.outcome !== 'completed') continue;
        const key = `${request.api}\n${request.conversation.messagesKey}`;
        if (seen.has(key)) repeated.push(request);
        seen.add(key);
      }
      return repeated;
    },
    injectFault(fault) {
      faults.push({ fault, remaining: fault.times ?? 1 });
    },
    waitForRequest(predicate, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 30_000;
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = requests.find(predicate);
          if (!found) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`No model request matched within ${timeoutMs} ms (${requests.length} received).`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendError(response: ServerResponse, status: number, type: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: { message, type, param: null, code: type } }));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
