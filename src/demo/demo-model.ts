// Which model the demo uses, and how a worker builds it. With no key it is the scripted analyst served over HTTP
// by the demo itself; with OPENAI_API_KEY it is a real OpenAI model, with AI_GATEWAY_API_KEY a model through the
// Vercel AI Gateway. Each live call is reported to the demo; replayed calls never reach this model.
import { gateway, wrapLanguageModel, type LanguageModel } from 'ai';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { emitDemoEvent } from './demo-events.ts';
import { shortHash } from './model-conversation.ts';

export type DemoModelChoice =
  | { readonly kind: 'scripted'; readonly modelId: string; readonly baseURL: string }
  | { readonly kind: 'openai'; readonly modelId: string }
  | { readonly kind: 'gateway'; readonly modelId: string };

export type DemoModelKind = DemoModelChoice['kind'];

/** Picks the model from the environment: a real one when a provider key is set, the scripted analyst otherwise. */
export function chooseDemoModelKind(
  environment: NodeJS.ProcessEnv,
  requested?: { scripted?: boolean; modelId?: string },
): { kind: DemoModelKind; modelId: string } {
  if (requested?.scripted) return { kind: 'scripted', modelId: 'scripted-analyst' };
  if (environment.OPENAI_API_KEY) return { kind: 'openai', modelId: requested?.modelId ?? 'gpt-5-mini' };
  if (environment.AI_GATEWAY_API_KEY) return { kind: 'gateway', modelId: requested?.modelId ?? 'openai/gpt-5-mini' };
  return { kind: 'scripted', modelId: 'scripted-analyst' };
}

export function describeDemoModel(choice: { kind: DemoModelKind; modelId: string }): string {
  switch (choice.kind) {
    case 'scripted':
      return (
        'SCRIPTED model: a local stand-in that answers like an analyst, served over HTTP by this demo ' +
        '(no API key needed; set OPENAI_API_KEY or AI_GATEWAY_API_KEY to use a real model)'
      );
    case 'openai':
      return `OpenAI model "${choice.modelId}" (OPENAI_API_KEY is set)`;
    case 'gateway':
      return `model "${choice.modelId}" through the Vercel AI Gateway (AI_GATEWAY_API_KEY is set)`;
  }
}

let calls = 0;

/** Live model calls this process has started so far. */
export function liveModelCalls(): number {
  return calls;
}

/** Builds the chosen model in a worker process, wrapped so every live call is reported. */
export async function createDemoModel(choice: DemoModelChoice): Promise<LanguageModel> {
  const model = choice.kind === 'gateway' ? gateway(choice.modelId) : await openAIModel(choice);
  return wrapLanguageModel({
    model,
    middleware: {
      async wrapGenerate({ doGenerate, params }) {
        calls += 1;
        const call = calls;
        const promptDigest = shortHash(JSON.stringify(params.prompt), 16);
        emitDemoEvent({ type: 'model-call-started', call, promptDigest });
        const started = performance.now();
        const result = await doGenerate();
        emitDemoEvent({
          type: 'model-call-finished',
          call,
          promptDigest,
          durationMs: Math.round(performance.now() - started),
          inputTokens: result.usage.inputTokens.total ?? null,
          outputTokens: result.usage.outputTokens.total ?? null,
          finishReason: result.finishReason.unified,
          toolCalls: result.content.flatMap((part) => (part.type === 'tool-call' ? [`${part.toolName} ${part.input}`] : [])),
          text: result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join(''),
        });
        return result;
      },
    },
  });
}

/**
 * The OpenAI provider, which the demo needs for its scripted model and for OpenAI models. It is optional for the
 * library, so a missing one is reported with the command that installs it.
 */
export async function loadOpenAIProvider(): Promise<typeof import('@ai-sdk/openai')> {
  try {
    return await import('@ai-sdk/openai');
  } catch (error) {
    throw new ConfigurationError({
      setting: '@ai-sdk/openai',
      message:
        'The demo talks to its model through the @ai-sdk/openai provider, which is not installed here. ' +
        'Install it next to ai-sdk-absurd (npm install @ai-sdk/openai) and run the demo again.',
      cause: error,
    });
  }
}

async function openAIModel(choice: Exclude<DemoModelChoice, { kind: 'gateway' }>): Promise<LanguageModelV4> {
  const provider = await loadOpenAIProvider();
  if (choice.kind === 'scripted') {
    return provider.createOpenAI({ baseURL: choice.baseURL, apiKey: 'scripted-demo', name: 'scripted' })(choice.modelId);
  }
  return provider.openai(choice.modelId);
}
