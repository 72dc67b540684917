import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, stepCountIs, streamText, tool } from 'ai';
import type { LanguageModel } from 'ai';
import { z } from 'zod';
import { analystScenario } from './analyst-scenario.ts';
import { startOpenAICompatibleServer } from './openai-compatible-server.ts';
import type { OpenAICompatibleServer } from './openai-compatible-server.ts';

function analystTools(executions: string[]) {
  return {
    getRevenue: tool({
      inputSchema: z.object({ quarter: z.string() }),
      execute: async ({ quarter }, { toolCallId }) => {
        executions.push(`getRevenue:${toolCallId}`);
        return { quarter, revenue: Number(quarter.slice(1)) * 1000 };
      },
    }),
    recordNote: tool({
      inputSchema: z.object({ text: z.string() }),
      execute: async ({ text }, { toolCallId }) => {
        executions.push(`recordNote:${toolCallId}`);
        return { saved: text.length };
      },
    }),
  };
}

const apis = [
  {
    name: 'chat completions',
    api: 'chat',
    model: (baseURL: string) => createOpenAI({ baseURL, apiKey: 'test' }).chat('gpt-test'),
  },
  {
    name: 'responses',
    api: 'responses',
    model: (baseURL: string) => createOpenAI({ baseURL, apiKey: 'test' })('gpt-test'),
  },
] as const;

const expectedReport =
  'Report for Q1, Q3. Revenue: {"quarter":"Q1","revenue":1000}; {"quarter":"Q3","revenue":3000}. Note recorded.';

for (const { name, api, model: createModel } of apis) {
  describe(`local OpenAI-compatible server (${name})`, () => {
    let server: OpenAICompatibleServer;
    let model: LanguageModel;
    before(async () => {
      server = await startOpenAICompatibleServer({ script: analystScenario({ reportLength: 20_000 }) });
      model = createModel(server.baseURL);
    });
    after(() => server.close());

    test('generateText: parallel tool calls, a second tool, then a ~20 KB report, with usage', async () => {
      const first = server.requests.length;
      const executions: string[] = [];
      const result = await generateText({
        model,
        tools: analystTools(executions),
        prompt: 'Compare revenue for Q1 and Q3.',
        stopWhen: stepCountIs(6),
      });
      const requests = server.requests.slice(first);
      assert.equal(requests.length, 3);
      assert.ok(requests.every((request) => request.api === api && request.outcome === 'completed'));
      assert.deepEqual(
        result.steps[0]?.toolCalls.map((call) => [call.toolName, call.input]),
        [
          ['getRevenue', { quarter: 'Q1' }],
          ['getRevenue', { quarter: 'Q3' }],
        ],
      );
      assert.deepEqual(result.steps[1]?.toolCalls.map((call) => call.toolName), ['recordNote']);
      assert.equal(executions.length, 3);
      assert.ok(result.text.startsWith(expectedReport), result.text.slice(0, 200));
      assert.ok(result.text.length >= 20_000, `report has ${result.text.length} characters`);
      assert.ok((result.totalUsage.inputTokens ?? 0) > 0 && (result.totalUsage.outputTokens ?? 0) > 0);
      assert.deepEqual(server.repeatedRequests(), []);
    });

    test('streamText streams the same conversation and the same ~20 KB report', async () => {
      const first = server.requests.length;
      const executions: string[] = [];
      const errors: unknown[] = [];
      const result = streamText({
        model,
        tools: analystTools(executions),
        prompt: 'Compare revenue for Q1 and Q3.',
        stopWhen: stepCountIs(6),
        onError: ({ error }) => {
          errors.push(error);
        },
      });
      let deltas = 0;
      for await (const part of result.fullStream) if (part.type === 'text-delta') deltas += 1;
      const text = await result.text;
      assert.deepEqual(errors, []);
      assert.ok(deltas > 100, `only ${deltas} text deltas`);
      assert.ok(text.startsWith(expectedReport), text.slice(0, 200));
      assert.ok(text.length >= 20_000);
      assert.equal(executions.length, 3);
      const requests = server.requests.slice(first);
      assert.ok(requests.every((request) => request.conversation.stream && request.outcome === 'completed'));
      assert.ok(((await result.totalUsage).outputTokens ?? 0) > 0);
    });

    test('answers depend on the request only: asking again gives the same ids and counts as a repeat', async () => {
      const first = server.requests.length;
      const ask = () =>
        generateText({ model, tools: analystTools([]), prompt: 'Revenue for Q2?', stopWhen: stepCountIs(1) });
      const [one, two] = [await ask(), await ask()];
      assert.equal(one.toolCalls[0]?.toolCallId, two.toolCalls[0]?.toolCallId);
      assert.equal(one.response.id, two.response.id);
      const repeated = server.repeatedRequests().filter((request) => request.index >= first);
      assert.deepEqual(
        repeated.map((request) => request.index),
        [first + 1],
      );
    });

    test('a 429 with retry-after is answered once, then the retried request succeeds', async () => {
      server.injectFault({
        kind: 'rate-limit',
        retryAfterSeconds: 0.05,
        match: (conversation) => conversation.userPrompt === 'limit me',
      });
      const first = server.requests.length;
      const result = await generateText({ model, prompt: 'limit me', maxRetries: 1 });
      assert.equal(result.text, 'You asked: limit me');
      const requests = server.requests.slice(first);
      assert.deepEqual(
        requests.map((request) => [request.status, request.outcome, request.fault]),
        [
          [429, 'failed', 'rate-limit'],
          [200, 'completed', undefined],
        ],
      );
    });

    test('a 500 reaches the caller as an APICallError', async () => {
      server.injectFault({ kind: 'server-error', match: (conversation) => conversation.userPrompt === 'fail me' });
      await assert.rejects(
        generateText({ model, prompt: 'fail me', maxRetries: 0 }),
        (error: unknown) => APICallError.isInstance(error) && error.statusCode === 500,
      );
    });

    test('a delayed answer still arrives', async () => {
      server.injectFault({ kind: 'delay', ms: 50, match: (conversation) => conversation.userPrompt === 'slow' });
      const result = await generateText({ model, prompt: 'slow' });
      assert.equal(result.text, 'You asked: slow');
      assert.equal(server.requests.at(-1)?.fault, 'delay');
    });

    test('a stalled stream holds the connection after some events, until the client aborts', async () => {
      const stallServer = await startOpenAICompatibleServer({
        script: () => ({ text: 'x'.repeat(2_000) }),
        faults: [{ kind: 'stall', afterEvents: 12 }],
        textChunkLength: 10,
      });
      try {
        const abort = new AbortController();
        const result = streamText({ model: createModel(stallServer.baseURL), prompt: 'stall', abortSignal: abort.signal });
        const stalled = stallServer.waitForRequest((request) => request.outcome === 'stalled', { timeoutMs: 5_000 });
        let received = '';
        const reading = (async () => {
          for await (const part of result.fullStream) if (part.type === 'text-delta') received += part.text;
        })();
        const request = await stalled;
        assert.equal(request.eventsSent, 12);
        await waitUntil(() => received.length > 0);
        abort.abort();
        await reading.catch(() => {});
        assert.ok(received.length > 0 && received.length < 2_000, `received ${received.length} characters`);
        assert.equal(stallServer.completedRequests().length, 0);
      } finally {
        await stallServer.close();
      }
    });
  });
}

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
