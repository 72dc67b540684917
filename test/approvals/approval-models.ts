// Scripted AI SDK mock models for the approval suites: each answers from the prompt alone, so a
// replayed or resumed run gets the same answer it got before.
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

export type Prompt = LanguageModelV4CallOptions['prompt'];

export interface ScriptedCall {
  readonly toolCallId: string;
  readonly toolName: string;
  /** The JSON text the model writes as the input. */
  readonly input: string;
}

/** Tool results (and denials) the prompt already carries. */
export function toolResultCount(prompt: Prompt): number {
  return prompt.filter((message) => message.role === 'tool').flatMap((message) => message.content).length;
}

/**
 * A model that asks for `script(prompt)` tool calls, or answers with text (naming every tool output it
 * saw) when the script returns none.
 */
export function scriptedModel(script: (prompt: Prompt) => readonly ScriptedCall[]) {
  const prompts: Prompt[] = [];
  const model = new MockLanguageModelV4({
    doGenerate: async (options) => {
      prompts.push(options.prompt);
      const calls = script(options.prompt);
      if (calls.length > 0) {
        return {
          content: calls.map((call) => ({ type: 'tool-call' as const, ...call })),
          finishReason: { unified: 'tool-calls', raw: undefined },
          usage,
          warnings: [],
        };
      }
      const outputs = options.prompt
        .filter((message) => message.role === 'tool')
        .flatMap((message) => message.content.map((part) => ('output' in part ? part.output : part)));
      return {
        content: [{ type: 'text', text: `done: ${JSON.stringify(outputs)}` }],
        finishReason: { unified: 'stop', raw: undefined },
        usage,
        warnings: [],
      };
    },
  });
  return { model, prompts };
}

/** A `refund` tool that needs approval and records every amount it refunded. */
export function refundTool(refunds: number[]) {
  return tool({
    description: 'Refund an order',
    inputSchema: z.object({ amount: z.number() }),
    needsApproval: true,
    execute: async ({ amount }) => (refunds.push(amount), { refunded: amount }),
  });
}

/** A `note` tool that needs approval and records every text it saved. */
export function noteTool(notes: string[]) {
  return tool({
    description: 'Save a note',
    inputSchema: z.object({ text: z.string() }),
    needsApproval: true,
    execute: async ({ text }) => (notes.push(text), { saved: true }),
  });
}
