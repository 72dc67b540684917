// The model the chat's worker talks to: OpenAI when OPENAI_API_KEY is set (OPENAI_BASE_URL may point at any
// OpenAI-compatible server), otherwise the scripted model on a local port, so the example runs with no API key.
import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import { startScriptedChatModel } from './scripted-chat-model.ts';

export interface ChatModel {
  readonly model: LanguageModel;
  /** Where the model answers, for the start-up message. */
  readonly description: string;
  close(): Promise<void>;
}

export async function openChatModel(): Promise<ChatModel> {
  if (process.env.OPENAI_API_KEY) {
    const modelId = process.env.OPENAI_MODEL ?? 'gpt-5-mini';
    return {
      model: createOpenAI()(modelId),
      description: `OpenAI model ${modelId}${process.env.OPENAI_BASE_URL ? ` at ${process.env.OPENAI_BASE_URL}` : ''}`,
      close: async () => {},
    };
  }
  const server = await startScriptedChatModel();
  return {
    model: createOpenAI({ baseURL: server.baseURL, apiKey: 'scripted' })('scripted-analyst'),
    description: `the scripted model at ${server.baseURL} (set OPENAI_API_KEY to use OpenAI)`,
    close: () => server.close(),
  };
}
