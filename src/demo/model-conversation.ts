// Reads an OpenAI Chat Completions or Responses request body into one API-neutral view, so a scripted
// model can decide its reply from what the conversation contains (never from how many calls it has seen).
import { createHash } from 'node:crypto';
import { canonicalJson } from '../codec/fingerprint.ts';

export type OpenAIApi = 'chat' | 'responses';

export interface ConversationToolCall {
  readonly toolCallId: string;
  readonly toolName: string;
  /** The arguments as the client sent them back (JSON text). */
  readonly input: string;
}

export interface ConversationToolResult {
  readonly toolCallId: string;
  /** Resolved from the matching tool call; undefined when the call is not in the conversation. */
  readonly toolName: string | undefined;
  /** The tool output as sent to the model (text; JSON outputs arrive as JSON text). */
  readonly output: string;
}

/** What a scripted model sees of one request. */
export interface ModelConversation {
  readonly api: OpenAIApi;
  readonly model: string;
  readonly stream: boolean;
  /** System (and developer) messages, joined by blank lines. */
  readonly instructions: string;
  /** The text of the last user message. */
  readonly userPrompt: string;
  /** Names of the function tools offered in this request. */
  readonly toolNames: readonly string[];
  /** Tool calls the assistant made earlier in the conversation, in order. */
  readonly toolCalls: readonly ConversationToolCall[];
  /** Tool results the client sent back, in order. */
  readonly toolResults: readonly ConversationToolResult[];
  /**
   * Canonical JSON of the messages (Chat Completions `messages`, Responses `input`): two requests with the same
   * key asked the model the same question, which for a durable agent means a checkpointed call was repeated.
   */
  readonly messagesKey: string;
}

/** Reads a request body of the given API. Throws on bodies that are not shaped like one. */
export function readModelConversation(api: OpenAIApi, body: unknown): ModelConversation {
  if (!isRecord(body)) throw new Error('request body is not a JSON object');
  const model = typeof body.model === 'string' ? body.model : '';
  const stream = body.stream === true;
  const toolNames = readToolNames(body.tools);
  const messages = api === 'chat' ? body.messages : body.input;
  if (!Array.isArray(messages)) throw new Error(api === 'chat' ? 'messages must be an array' : 'input must be an array');
  const parts = api === 'chat' ? readChatMessages(messages) : readResponsesInput(messages);
  if (api === 'responses' && typeof body.instructions === 'string') parts.instructions.unshift(body.instructions);
  const toolNameById = new Map(parts.toolCalls.map((call) => [call.toolCallId, call.toolName]));
  return {
    api,
    model,
    stream,
    instructions: parts.instructions.join('\n\n'),
    userPrompt: parts.userPrompts.at(-1) ?? '',
    toolNames,
    toolCalls: parts.toolCalls,
    toolResults: parts.toolResults.map((result) => ({ ...result, toolName: toolNameById.get(result.toolCallId) })),
    messagesKey: canonicalJson(messages),
  };
}

interface ConversationParts {
  instructions: string[];
  userPrompts: string[];
  toolCalls: ConversationToolCall[];
  toolResults: Array<{ toolCallId: string; output: string }>;
}

function readChatMessages(messages: unknown[]): ConversationParts {
  const parts: ConversationParts = { instructions: [], userPrompts: [], toolCalls: [], toolResults: [] };
  for (const message of messages) {
    if (!isRecord(message)) continue;
    if (message.role === 'system' || message.role === 'developer') parts.instructions.push(readText(message.content));
    else if (message.role === 'user') parts.userPrompts.push(readText(message.content));
    else if (message.role === 'assistant' && Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls) {
        if (!isRecord(call) || !isRecord(call.function)) continue;
        parts.toolCalls.push({
          toolCallId: String(call.id),
          toolName: String(call.function.name),
          input: String(call.function.arguments ?? ''),
        });
      }
    } else if (message.role === 'tool') {
      parts.toolResults.push({ toolCallId: String(message.tool_call_id), output: readText(message.content) });
    }
  }
  return parts;
}

function readResponsesInput(items: unknown[]): ConversationParts {
  const parts: ConversationParts = { instructions: [], userPrompts: [], toolCalls: [], toolResults: [] };
  for (const item of items) {
    if (!isRecord(item)) continue;
    if (item.type === 'function_call') {
      parts.toolCalls.push({
        toolCallId: String(item.call_id),
        toolName: String(item.name),
        input: String(item.arguments ?? ''),
      });
    } else if (item.type === 'function_call_output') {
      parts.toolResults.push({ toolCallId: String(item.call_id), output: readText(item.output) });
    } else if (item.role === 'system' || item.role === 'developer') parts.instructions.push(readText(item.content));
    else if (item.role === 'user') parts.userPrompts.push(readText(item.content));
  }
  return parts;
}

/** Text of a message content: a string, or the text parts of a content array joined. */
function readText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content == null ? '' : JSON.stringify(content);
  return content
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .filter((text) => text.length > 0)
    .join('\n');
}

function readToolNames(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  const names: string[] = [];
  for (const tool of tools) {
    if (!isRecord(tool)) continue;
    // Chat Completions nests the name under `function`; Responses puts it on the tool.
    const name = isRecord(tool.function) ? tool.function.name : tool.name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/** A short stable hash, used to derive ids that are the same whenever the same request is asked again. */
export function shortHash(text: string, length = 12): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value);
}
