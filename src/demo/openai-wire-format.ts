// Renders a scripted reply in the wire formats the `@ai-sdk/openai` provider reads: Chat Completions and
// Responses, as one JSON body or as a list of server-sent events. Every id is derived from the request, so the
// same request always gets the same answer, ids included.
import type { ModelConversation } from './model-conversation.ts';
import { shortHash } from './model-conversation.ts';

/** What a scripted model answers: text, tool calls (several means parallel tool calls), or both. */
export interface ScriptedReply {
  readonly text?: string;
  readonly toolCalls?: ReadonlyArray<{ readonly toolName: string; readonly input: unknown }>;
}

/** Decides a reply from the conversation alone; it must not count calls, so a repeated request gets the same reply. */
export type ModelScript = (conversation: ModelConversation) => ScriptedReply;

export interface RenderedToolCall {
  readonly toolCallId: string;
  readonly itemId: string;
  readonly toolName: string;
  readonly arguments: string;
}

/** A reply with its ids and usage fixed, ready to be written in either API's format. */
export interface RenderedReply {
  readonly responseId: string;
  readonly messageId: string;
  readonly model: string;
  readonly createdAt: number;
  readonly text: string;
  readonly toolCalls: readonly RenderedToolCall[];
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
}

export function renderReply(conversation: ModelConversation, reply: ScriptedReply): RenderedReply {
  const requestHash = shortHash(`${conversation.api}\n${conversation.messagesKey}`);
  const text = reply.text ?? '';
  const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
    toolCallId: `call_${requestHash}_${index}`,
    itemId: `fc_${requestHash}_${index}`,
    toolName: call.toolName,
    arguments: JSON.stringify(call.input ?? {}),
  }));
  const outputLength = text.length + toolCalls.reduce((total, call) => total + call.arguments.length, 0);
  return {
    responseId: conversation.api === 'chat' ? `chatcmpl-${requestHash}` : `resp_${requestHash}`,
    messageId: `msg_${requestHash}`,
    model: conversation.model,
    createdAt: Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    // About four characters a token, like the real tokenizers on English text.
    usage: {
      inputTokens: Math.ceil(conversation.messagesKey.length / 4),
      outputTokens: Math.max(1, Math.ceil(outputLength / 4)),
    },
  };
}

export function chatCompletionBody(reply: RenderedReply): unknown {
  return {
    id: reply.responseId,
    object: 'chat.completion',
    created: reply.createdAt,
    model: reply.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.text.length > 0 ? reply.text : null,
          ...(reply.toolCalls.length > 0 && {
            tool_calls: reply.toolCalls.map((call) => ({
              id: call.toolCallId,
              type: 'function',
              function: { name: call.toolName, arguments: call.arguments },
            })),
          }),
        },
        finish_reason: reply.toolCalls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: chatUsage(reply),
  };
}

/** Chat Completions stream: one `data:` event per chunk, then `[DONE]`. */
export function chatCompletionEvents(reply: RenderedReply, textChunkLength: number): string[] {
  const chunk = (choice: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) =>
    sse(undefined, {
      id: reply.responseId,
      object: 'chat.completion.chunk',
      created: reply.createdAt,
      model: reply.model,
      choices: choice ? [{ index: 0, ...choice }] : [],
      ...extra,
    });
  const events = [chunk({ delta: { role: 'assistant', content: '' }, finish_reason: null })];
  for (const piece of splitText(reply.text, textChunkLength)) {
    events.push(chunk({ delta: { content: piece }, finish_reason: null }));
  }
  reply.toolCalls.forEach((call, index) => {
    const opening = { index, id: call.toolCallId, type: 'function', function: { name: call.toolName, arguments: '' } };
    events.push(chunk({ delta: { tool_calls: [opening] }, finish_reason: null }));
    for (const piece of splitText(call.arguments, textChunkLength)) {
      events.push(chunk({ delta: { tool_calls: [{ index, function: { arguments: piece } }] }, finish_reason: null }));
    }
  });
  events.push(chunk({ delta: {}, finish_reason: reply.toolCalls.length > 0 ? 'tool_calls' : 'stop' }));
  events.push(chunk(undefined, { usage: chatUsage(reply) }));
  events.push('data: [DONE]\n\n');
  return events;
}

function chatUsage(reply: RenderedReply) {
  return {
    prompt_tokens: reply.usage.inputTokens,
    completion_tokens: reply.usage.outputTokens,
    total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

export function responsesBody(reply: RenderedReply): unknown {
  return responseObject(reply, 'completed');
}

/** Responses stream: typed events with sequence numbers, the shape the Responses API streams. */
export function responsesEvents(reply: RenderedReply, textChunkLength: number): string[] {
  let sequenceNumber = 0;
  const events: string[] = [];
  const emit = (type: string, payload: Record<string, unknown>) => {
    events.push(sse(type, { type, sequence_number: sequenceNumber, ...payload }));
    sequenceNumber += 1;
  };
  emit('response.created', { response: responseObject(reply, 'in_progress') });
  emit('response.in_progress', { response: responseObject(reply, 'in_progress') });
  let outputIndex = 0;
  if (reply.text.length > 0) {
    const item_id = reply.messageId;
    const output_index = outputIndex;
    outputIndex += 1;
    emit('response.output_item.added', {
      output_index,
      item: { id: item_id, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    });
    emit('response.content_part.added', {
      item_id,
      output_index,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    for (const delta of splitText(reply.text, textChunkLength)) {
      emit('response.output_text.delta', { item_id, output_index, content_index: 0, delta, logprobs: [] });
    }
    emit('response.output_text.done', { item_id, output_index, content_index: 0, text: reply.text, logprobs: [] });
    emit('response.content_part.done', {
      item_id,
      output_index,
      content_index: 0,
      part: { type: 'output_text', text: reply.text, annotations: [] },
    });
    emit('response.output_item.done', { output_index, item: messageItem(reply) });
  }
  for (const call of reply.toolCalls) {
    const output_index = outputIndex;
    outputIndex += 1;
    emit('response.output_item.added', {
      output_index,
      item: { ...functionCallItem(call), arguments: '', status: 'in_progress' },
    });
    for (const delta of splitText(call.arguments, textChunkLength)) {
      emit('response.function_call_arguments.delta', { item_id: call.itemId, output_index, delta });
    }
    emit('response.function_call_arguments.done', { item_id: call.itemId, output_index, arguments: call.arguments });
    emit('response.output_item.done', { output_index, item: functionCallItem(call) });
  }
  emit('response.completed', { response: responseObject(reply, 'completed') });
  return events;
}

function responseObject(reply: RenderedReply, status: 'in_progress' | 'completed') {
  const output: unknown[] = [];
  if (status === 'completed') {
    if (reply.text.length > 0) output.push(messageItem(reply));
    for (const call of reply.toolCalls) output.push(functionCallItem(call));
  }
  return {
    id: reply.responseId,
    object: 'response',
    created_at: reply.createdAt,
    status,
    model: reply.model,
    output,
    parallel_tool_calls: true,
    incomplete_details: null,
    error: null,
    usage:
      status === 'completed'
        ? {
            input_tokens: reply.usage.inputTokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: reply.usage.outputTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
          }
        : null,
  };
}

function messageItem(reply: RenderedReply) {
  return {
    id: reply.messageId,
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text: reply.text, annotations: [] }],
  };
}

function functionCallItem(call: RenderedToolCall) {
  return {
    id: call.itemId,
    type: 'function_call',
    status: 'completed',
    call_id: call.toolCallId,
    name: call.toolName,
    arguments: call.arguments,
  };
}

function sse(event: string | undefined, data: unknown): string {
  return `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

function splitText(text: string, length: number): string[] {
  const pieces: string[] = [];
  for (let index = 0; index < text.length; index += length) pieces.push(text.slice(index, index + length));
  return pieces;
}
