// The answers of the local model the chat example uses when no OPENAI_API_KEY is set: an OpenAI-compatible
// server on 127.0.0.1 that streams a scripted reply slowly enough to watch it type, and to kill a worker mid-answer.
// A question first gets a `getRevenue` tool call; the tool's result then gets a written answer.
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../../test/support/openai-compatible-server.ts';
import type { ModelConversation } from '../../test/support/model-conversation.ts';
import type { ScriptedReply } from '../../test/support/openai-wire-format.ts';

/** Revenue per quarter, in dollars: what the example's `getRevenue` tool returns. */
export const revenueByQuarter: Readonly<Record<string, number>> = { Q1: 1_200_000, Q2: 1_450_000, Q3: 1_310_000, Q4: 1_620_000 };

/** The quarter a question is about (`Q1` when it names none). */
export function quarterOf(question: string): string {
  return /\bq([1-4])\b/i.exec(question)?.[0]?.toUpperCase() ?? 'Q1';
}

/** The written answer for a quarter's revenue: the text the page shows once the tool returned. */
export function revenueAnswer(quarter: string, revenue: number): string {
  const millions = (revenue / 1_000_000).toFixed(2);
  return (
    `Revenue in ${quarter} was $${millions}M, according to the getRevenue tool. ` +
    `That figure covers every region and product line, booked in the quarter (figures <unaudited>). ` +
    `The answer you are reading is streamed from a durable task: each chunk is stored in the database as it is ` +
    `written, so a reload of this page or a crash of the worker does not lose or repeat any of it.`
  );
}

/** Decides the model's reply from the conversation: call the tool for a new question, answer from its result. */
export function scriptedChatReply(conversation: ModelConversation): ScriptedReply {
  const items = JSON.parse(conversation.messagesKey) as Array<{ type?: string; role?: string; output?: unknown; content?: unknown }>;
  const last = items.at(-1);
  const toolOutput = last?.type === 'function_call_output' ? last.output : last?.role === 'tool' ? last.content : undefined;
  if (toolOutput === undefined) {
    return { toolCalls: [{ toolName: 'getRevenue', input: { quarter: quarterOf(conversation.userPrompt) } }] };
  }
  const { quarter, revenue } = readRevenue(toolOutput);
  return { text: revenueAnswer(quarter, revenue) };
}

/** What a written answer becomes when the same conversation is asked again, as a real model's may differ. */
export function revisedAnswer(answer: string): string {
  return `Revised: ${answer}`;
}

/** The scripted replies, with every written answer after the first for one conversation revised. */
function revisingRepeatedAnswers(): (conversation: ModelConversation) => ScriptedReply {
  const asked = new Set<string>();
  return (conversation) => {
    const reply = scriptedChatReply(conversation);
    if (reply.text === undefined) return reply;
    const repeated = asked.has(conversation.messagesKey);
    asked.add(conversation.messagesKey);
    return repeated ? { ...reply, text: revisedAnswer(reply.text) } : reply;
  };
}

/**
 * Starts the scripted model on 127.0.0.1; `eventDelayMs` paces the streamed events. With
 * `reviseRepeatedAnswers`, an answer asked again (a worker died while it streamed) comes back revised.
 */
export function startScriptedChatModel(
  options: { eventDelayMs?: number; textChunkLength?: number; reviseRepeatedAnswers?: boolean } = {},
): Promise<OpenAICompatibleServer> {
  return startOpenAICompatibleServer({
    script: options.reviseRepeatedAnswers ? revisingRepeatedAnswers() : scriptedChatReply,
    eventDelayMs: options.eventDelayMs ?? 40,
    textChunkLength: options.textChunkLength ?? 4,
    host: '127.0.0.1',
  });
}

function readRevenue(output: unknown): { quarter: string; revenue: number } {
  const text = typeof output === 'string' ? output : JSON.stringify(output);
  const parsed = JSON.parse(text) as { quarter?: unknown; revenue?: unknown } | { type?: string; value?: { quarter?: unknown; revenue?: unknown } };
  const value = 'value' in parsed && parsed.value ? parsed.value : (parsed as { quarter?: unknown; revenue?: unknown });
  return { quarter: String(value.quarter ?? 'Q1'), revenue: Number(value.revenue ?? 0) };
}
