// An instant scripted model and cheap tools, so a benchmark measures what durability adds and
// nothing else. The model decides each reply from the prompt alone (how many tool results it
// holds), never from a call counter, so a resumed run gets the same replies as the first one.
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
} from '@ai-sdk/provider';
import { jsonSchema, tool, type ToolSet } from 'ai';

export interface BenchmarkModelOptions {
  /** Model calls per agent run: every call but the last asks for one `lookup` tool call. */
  readonly modelCalls: number;
  /** Approximate size in bytes of each model response's text. */
  readonly responseBytes: number;
}

const usage = {
  inputTokens: { total: 100, noCache: 100, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 50, text: 50, reasoning: undefined },
};

const sentence = 'Quarterly revenue grew in every region, led by strong subscription renewals and lower churn. ';

/** Filler text of about `bytes` bytes, with the step number in front so responses differ. */
export function responseText(step: number, bytes: number): string {
  const prefix = `Step ${step}. `;
  const body = sentence.repeat(Math.ceil(Math.max(0, bytes - prefix.length) / sentence.length));
  return prefix + body.slice(0, Math.max(0, bytes - prefix.length));
}

/** Tool results already in the prompt: the step the agent has reached. */
export function completedToolCalls(options: LanguageModelV4CallOptions): number {
  let results = 0;
  for (const message of options.prompt) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) if (part.type === 'tool-result') results += 1;
  }
  return results;
}

function replyContent(options: LanguageModelV4CallOptions, settings: BenchmarkModelOptions): LanguageModelV4Content[] {
  const step = completedToolCalls(options);
  const text: LanguageModelV4Content = { type: 'text', text: responseText(step, settings.responseBytes) };
  if (step >= settings.modelCalls - 1) return [text];
  return [text, { type: 'tool-call', toolCallId: `call_${step}`, toolName: 'lookup', input: JSON.stringify({ step }) }];
}

/** A LanguageModelV4 that answers instantly; `calls` counts how often the provider was really asked. */
export function createBenchmarkModel(settings: BenchmarkModelOptions): LanguageModelV4 & { calls: number } {
  const model = {
    specificationVersion: 'v4' as const,
    provider: 'benchmark',
    modelId: `scripted-${settings.responseBytes}b`,
    supportedUrls: {},
    calls: 0,
    async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
      model.calls += 1;
      const content = replyContent(options, settings);
      const toolCall = content.some((part) => part.type === 'tool-call');
      return {
        content,
        finishReason: { unified: toolCall ? 'tool-calls' : 'stop', raw: toolCall ? 'tool_calls' : 'stop' },
        usage,
        response: { id: `resp_${completedToolCalls(options)}`, timestamp: new Date(0), modelId: model.modelId },
        warnings: [],
      };
    },
    async doStream(options: LanguageModelV4CallOptions) {
      model.calls += 1;
      const content = replyContent(options, settings);
      const parts: LanguageModelV4StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', id: `resp_${completedToolCalls(options)}`, timestamp: new Date(0), modelId: model.modelId },
      ];
      for (const part of content) {
        if (part.type === 'text') {
          parts.push({ type: 'text-start', id: 'text-0' }, { type: 'text-delta', id: 'text-0', delta: part.text }, { type: 'text-end', id: 'text-0' });
        } else if (part.type === 'tool-call') {
          parts.push(part);
        }
      }
      const toolCall = content.some((part) => part.type === 'tool-call');
      parts.push({ type: 'finish', usage, finishReason: { unified: toolCall ? 'tool-calls' : 'stop', raw: undefined } });
      return {
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          start(controller) {
            for (const part of parts) controller.enqueue(part);
            controller.close();
          },
        }),
      };
    },
  };
  return model;
}

/**
 * The cheap `lookup` tool. `wrapExecute` lets a durable framework put its own step around the body
 * (DBOS's documented pattern is `DBOS.runStep` around each tool's work).
 */
export function benchmarkTools(
  wrapExecute: <T>(name: string, body: () => Promise<T>) => Promise<T> = (_name, body) => body(),
): ToolSet {
  return {
    lookup: tool({
      description: 'Looks up the figure for one step.',
      inputSchema: jsonSchema<{ step: number }>({
        type: 'object',
        properties: { step: { type: 'number' } },
        required: ['step'],
        additionalProperties: false,
      }),
      execute: ({ step }) => wrapExecute('lookup', async () => ({ step, figure: step * 1_000 + 7 })),
    }),
  };
}
