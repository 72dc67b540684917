// Reads the request body an OpenAI provider sends (Responses `input` or Chat Completions `messages`) into the few
// facts the scripted analyst decides from. The reply depends only on the conversation, never on a call count, so
// a resumed run that asks the same question gets the same answer.
import { createHash } from 'node:crypto';

export type OpenAIApi = 'responses' | 'chat';

export interface ScriptedConversation {
  readonly api: OpenAIApi;
  readonly model: string;
  readonly stream: boolean;
  /** The text of the last user message. */
  readonly userPrompt: string;
  /** Names of the function tools offered. */
  readonly toolNames: readonly string[];
  readonly toolCalls: ReadonlyArray<{ readonly toolCallId: string; readonly toolName: string; readonly input: string }>;
  readonly toolResults: ReadonlyArray<{ readonly toolCallId: string; readonly toolName: string; readonly output: string }>;
  /** A digest of the messages: two requests with the same digest asked the model the same question. */
  readonly digest: string;
  /** Length of the messages as JSON text, for estimating input tokens. */
  readonly promptLength: number;
}

export function readScriptedConversation(api: OpenAIApi, body: unknown): ScriptedConversation {
  if (!isRecord(body)) throw new Error('the request body is not a JSON object');
  const items = api === 'responses' ? body.input : body.messages;
  if (!Array.isArray(items)) throw new Error(api === 'responses' ? 'input must be an array' : 'messages must be an array');
  const userPrompts: string[] = [];
  const toolCalls: Array<{ toolCallId: string; toolName: string; input: string }> = [];
  const outputs: Array<{ toolCallId: string; output: string }> = [];
  for (const item of items) {
    if (!isRecord(item)) continue;
    if (item.role === 'user') userPrompts.push(readText(item.content));
    if (item.type === 'function_call') {
      toolCalls.push({ toolCallId: String(item.call_id), toolName: String(item.name), input: String(item.arguments ?? '') });
    }
    if (item.type === 'function_call_output') outputs.push({ toolCallId: String(item.call_id), output: readText(item.output) });
    if (item.role === 'assistant' && Array.isArray(item.tool_calls)) {
      for (const call of item.tool_calls) {
        if (!isRecord(call) || !isRecord(call.function)) continue;
        toolCalls.push({
          toolCallId: String(call.id),
          toolName: String(call.function.name),
          input: String(call.function.arguments ?? ''),
        });
      }
    }
    if (item.role === 'tool') outputs.push({ toolCallId: String(item.tool_call_id), output: readText(item.content) });
  }
  const toolNames = (Array.isArray(body.tools) ? body.tools : [])
    .map((tool) => (isRecord(tool) ? (isRecord(tool.function) ? tool.function.name : tool.name) : undefined))
    .filter((name): name is string => typeof name === 'string');
  const nameById = new Map(toolCalls.map((call) => [call.toolCallId, call.toolName]));
  return {
    api,
    model: typeof body.model === 'string' ? body.model : 'scripted',
    stream: body.stream === true,
    userPrompt: userPrompts.at(-1) ?? '',
    toolNames,
    toolCalls,
    toolResults: outputs.map((result) => ({ ...result, toolName: nameById.get(result.toolCallId) ?? '' })),
    digest: digestOf(`${api}\n${canonicalJson(items)}`),
    promptLength: JSON.stringify(items).length,
  };
}

/** A short stable hash, used for the request digest and for ids derived from it. */
export function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  const sort = (entry: unknown): unknown => {
    if (Array.isArray(entry)) return entry.map(sort);
    if (!isRecord(entry)) return entry;
    return Object.fromEntries(
      Object.keys(entry)
        .sort()
        .filter((key) => entry[key] !== undefined)
        .map((key) => [key, sort(entry[key])]),
    );
  };
  return JSON.stringify(sort(value));
}

function readText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content == null ? '' : JSON.stringify(content);
  return content
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .filter((text) => text.length > 0)
    .join('\n');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value);
}
