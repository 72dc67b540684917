// The worker side of the chat: an AbsurdAgent with one tool, and the `chat` task that streams its answer.
// `agent.stream()` inside a task publishes the answer's UI message chunks to the task's durable stream.
import { convertToModelMessages, tool, type LanguageModel, type UIMessage } from 'ai';
import { z } from 'zod';
import { Absurd, AbsurdAgent } from '../../src/index.ts';
import { revenueByQuarter } from './scripted-chat-model.ts';

/** The queue the chat's web and worker processes share. */
export const chatQueue = 'chat';

/** Params of one `chat` task: the conversation as `useChat` sent it, ending with the new user message. */
export interface ChatTaskParams {
  readonly messages: UIMessage[];
}

/** Registers the `chat` task on `absurd`: one turn of the conversation, answered by a durable agent. */
export function registerChatTask(absurd: Absurd, model: LanguageModel): void {
  const assistant = new AbsurdAgent(
    {
      id: 'chat-assistant',
      model,
      instructions: 'You are a financial analyst. Look up revenue with getRevenue before you answer, then answer in a short paragraph.',
      tools: {
        getRevenue: tool({
          description: 'Revenue of one quarter of this year, in dollars.',
          inputSchema: z.object({ quarter: z.enum(['Q1', 'Q2', 'Q3', 'Q4']) }),
          execute: async ({ quarter }) => ({ quarter, revenue: revenueByQuarter[quarter] ?? 0 }),
        }),
      },
    },
    absurd,
  );

  absurd.registerTask({ name: 'chat' }, async (params: ChatTaskParams) => {
    const result = await assistant.stream({ messages: await convertToModelMessages(params.messages) });
    return { text: await result.text };
  });
}
