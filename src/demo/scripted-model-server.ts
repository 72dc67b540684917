// A local OpenAI-compatible endpoint serving the demo's scripted analyst, so the demo runs with no API key while
// its workers still make real HTTP model calls through the OpenAI provider. It answers `/v1/responses` (what
// `openai(modelId)` calls) and `/v1/chat/completions` (`openai.chat(modelId)`), without streaming, and records
// every request so the demo can prove which calls were made and that none was asked twice.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { scriptedAnalystReply } from './scripted-analyst.ts';
import type { ScriptedReply } from './scripted-analyst.ts';
import { digestOf, readScriptedConversation } from './scripted-conversation.ts';
import type { OpenAIApi, ScriptedConversation } from './scripted-conversation.ts';

export interface ScriptedModelRequest {
  readonly index: number;
  readonly conversation: ScriptedConversation;
  /** `completed` once the whole answer was written; `aborted` when the caller went away first (a killed worker). */
  outcome: 'pending' | 'completed' | 'aborted' | 'failed';
}

export interface ScriptedModelServer {
  /** What `createOpenAI({ baseURL })` takes: `http://127.0.0.1:port/v1`. */
  readonly baseURL: string;
  readonly requests: readonly ScriptedModelRequest[];
  /** Completed requests whose messages equal an earlier completed request's: a question answered twice. */
  repeatedRequests(): ScriptedModelRequest[];
  close(): Promise<void>;
}

export interface ScriptedModelServerOptions {
  /** How long the model "thinks" before answering, so a person can follow the demo (default 800 ms). */
  readonly thinkMs?: number;
  readonly script?: (conversation: ScriptedConversation) => ScriptedReply;
}

const apiByPath: Record<string, OpenAIApi> = { '/v1/responses': 'responses', '/v1/chat/completions': 'chat' };

export async function startScriptedModelServer(options: ScriptedModelServerOptions = {}): Promise<ScriptedModelServer> {
  const script = options.script ?? scriptedAnalystReply;
  const thinkMs = options.thinkMs ?? 800;
  const requests: ScriptedModelRequest[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const api = apiByPath[(request.url ?? '').split('?')[0] ?? ''];
    if (request.method !== 'POST' || !api) return sendError(response, 404, `No route for ${request.method} ${request.url}`);
    let conversation: ScriptedConversation;
    try {
      conversation = readScriptedConversation(api, JSON.parse(await readBody(request)));
    } catch (error) {
      return sendError(response, 400, `Unreadable request: ${(error as Error).message}`);
    }
    const recorded: ScriptedModelRequest = { index: requests.length, conversation, outcome: 'pending' };
    requests.push(recorded);
    response.on('close', () => {
      if (recorded.outcome === 'pending') recorded.outcome = 'aborted';
    });
    if (conversation.stream) {
      recorded.outcome = 'failed';
      return sendError(response, 400, 'The scripted demo model answers without streaming only.');
    }
    await delay(thinkMs);
    if (response.destroyed) return;
    const reply = script(conversation);
    const body = api === 'responses' ? responsesBody(conversation, reply) : chatBody(conversation, reply);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
    recorded.outcome = 'completed';
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, String(error));
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    repeatedRequests() {
      const seen = new Set<string>();
      return requests.filter((entry) => {
        if (entry.outcome !== 'completed') return false;
        const repeated = seen.has(entry.conversation.digest);
        seen.add(entry.conversation.digest);
        return repeated;
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface RenderedCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

function render(conversation: ScriptedConversation, reply: ScriptedReply) {
  const calls: RenderedCall[] = (reply.toolCalls ?? []).map((call, index) => ({
    id: `call_${conversation.digest}_${index}`,
    name: call.toolName,
    arguments: JSON.stringify(call.input),
  }));
  const text = reply.text ?? '';
  const outputLength = text.length + calls.reduce((total, call) => total + call.arguments.length, 0);
  // Token counts are estimates (four characters a token), reported the way the real API reports them.
  const inputTokens = Math.ceil(conversation.promptLength / 4);
  const outputTokens = Math.max(1, Math.ceil(outputLength / 4));
  return { calls, text, inputTokens, outputTokens, created: Math.floor(Date.now() / 1000) };
}

function responsesBody(conversation: ScriptedConversation, reply: ScriptedReply): unknown {
  const { calls, text, inputTokens, outputTokens, created } = render(conversation, reply);
  const output: unknown[] = [];
  if (text) {
    output.push({
      id: `msg_${conversation.digest}`,
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text, annotations: [] }],
    });
  }
  for (const call of calls) {
    output.push({
      id: `fc_${call.id}`,
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
    });
  }
  return {
    id: `resp_${conversation.digest}`,
    object: 'response',
    created_at: created,
    status: 'completed',
    model: conversation.model,
    output,
    parallel_tool_calls: true,
    incomplete_details: null,
    error: null,
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    },
  };
}

function chatBody(conversation: ScriptedConversation, reply: ScriptedReply): unknown {
  const { calls, text, inputTokens, outputTokens, created } = render(conversation, reply);
  return {
    id: `chatcmpl-${digestOf(conversation.digest)}`,
    object: 'chat.completion',
    created,
    model: conversation.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || null,
          ...(calls.length > 0 && {
            tool_calls: calls.map((call) => ({
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            })),
          }),
        },
        finish_reason: calls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
  };
}

function sendError(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
