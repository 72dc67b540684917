// End to end: a model (the real `@ai-sdk/openai` provider against a local server) calls MCP tools over
// stdio and Streamable HTTP inside a real Absurd task. The first attempt does everything live and then
// crashes; Absurd retries it, and the retry must produce the same result while sending nothing to the MCP
// server (no connection, no listing, no call) and nothing to the model.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, isStepCount, type LanguageModel, type ToolSet } from 'ai';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { durableMCPClient, type DurableMCPClient } from '../../src/agent/durable-mcp-client.ts';
import { durableModel } from '../../src/agent/durable-model.ts';
import { durableTools } from '../../src/agent/durable-tool.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import { startMcpFixture, type McpFixture, type McpTransportKind } from '../support/mcp-fixtures.ts';
import { quietLog, runTaskToEnd } from '../support/mcp-task-runner.ts';
import { mcpServerInstructions } from '../support/mcp-test-server.ts';
import type { ModelConversation } from '../support/model-conversation.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import type { ScriptedReply } from '../support/openai-wire-format.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

/** Asks for every MCP tool at once, then reports what they returned. */
function weatherScript(conversation: ModelConversation): ScriptedReply {
  if (conversation.toolResults.length === 0) {
    return {
      toolCalls: [
        { toolName: 'forecast', input: { city: 'Vienna', unit: 'celsius' } },
        { toolName: 'record_visit', input: { visitor: 'ana' } },
        { toolName: 'render_chart', input: { city: 'Vienna' } },
        { toolName: 'lookup_station', input: { code: 'XX' } },
      ],
    };
  }
  const followedInstructions = conversation.instructions.includes(mcpServerInstructions);
  return {
    text:
      `Instructions ${followedInstructions ? 'received' : 'missing'}. ` +
      conversation.toolResults.map((result) => `${result.toolName} -> ${result.output}`).join(' | '),
  };
}

interface AttemptRecord {
  readonly text: string;
  readonly toolResults: unknown;
  readonly responseMessages: unknown;
  readonly modelRequests: number;
  readonly mcpTraffic: number;
  readonly mcpConnections: number;
  readonly clientsCreated: number;
}

/** How the task runs the model loop: standalone durable model and tools, or an AbsurdAgent. */
type Runner = 'generateText' | 'AbsurdAgent.generate' | 'AbsurdAgent.stream';

const variants: Array<{ runner: Runner; api: 'chat' | 'responses' }> = [
  { runner: 'generateText', api: 'chat' },
  { runner: 'AbsurdAgent.generate', api: 'responses' },
  { runner: 'AbsurdAgent.stream', api: 'chat' },
];

/** The loop's outcome in the parts this suite compares, whichever way it ran. */
interface LoopOutcome {
  readonly text: string;
  readonly steps: ReadonlyArray<{ readonly content: ReadonlyArray<{ readonly type: string }> }>;
  readonly responseMessages: unknown;
}

async function runLoop(
  runner: Runner,
  absurd: Absurd,
  model: LanguageModel,
  weather: DurableMCPClient,
  prompt: string,
): Promise<LoopOutcome> {
  const tools = (await weather.tools()) as ToolSet;
  const instructions = await weather.instructions();
  if (runner === 'generateText') {
    return generateText({
      model: durableModel(model, { name: 'assistant' }),
      tools: durableTools(tools, { name: 'assistant' }),
      system: instructions,
      prompt,
      stopWhen: isStepCount(3),
      maxRetries: 0,
    });
  }
  const agent = new AbsurdAgent({ model, tools, instructions, stopWhen: isStepCount(3) }, absurd, { name: 'assistant' });
  if (runner === 'AbsurdAgent.generate') return agent.generate({ prompt });
  const result = await agent.stream({ prompt });
  return { text: await result.text, steps: await result.steps, responseMessages: await result.responseMessages };
}

for (const kind of ['stdio', 'http'] as McpTransportKind[]) {
  for (const { runner, api } of variants) {
    describe(`durable MCP tools over ${kind} with ${runner} (${api} API)`, () => {
      let database: TestDatabase;
      let fixture: McpFixture;
      let modelServer: OpenAICompatibleServer;

      before(async () => {
        database = await createTestDatabase();
        fixture = await startMcpFixture(kind);
        modelServer = await startOpenAICompatibleServer({ script: weatherScript });
      });
      after(async () => {
        await modelServer?.close();
        await fixture?.close();
        await database?.close();
      });

      test('a crashed attempt is retried with zero MCP requests and the same result', async () => {
        const provider = createOpenAI({ baseURL: modelServer.baseURL, apiKey: 'test-key' });
        const model = api === 'chat' ? provider.chat('weather-model') : provider.responses('weather-model');
        const attempts: AttemptRecord[] = [];
        const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('mcp_agent'), log: quietLog });
        absurd.registerTask({ name: 'weather-agent' }, async (params: { prompt: string }) => {
          const weather = durableMCPClient({ name: 'weather', client: () => fixture.createClient() });
          try {
            const result = await runLoop(runner, absurd, model, weather, params.prompt);
            attempts.push({
              text: result.text,
              // Sorted: a streamed step lists tool results in the order they finished, which varies.
              toolResults: result.steps
                .flatMap((step) => step.content.filter((part) => part.type === 'tool-result' || part.type === 'tool-error'))
                .map((part) => ({ ...part }) as { toolCallId?: string })
                .sort((left, right) => String(left.toolCallId).localeCompare(String(right.toolCallId))),
              responseMessages: result.responseMessages,
              modelRequests: modelServer.requests.length,
              mcpTraffic: fixture.traffic().length,
              mcpConnections: fixture.connections(),
              clientsCreated: fixture.clientsCreated,
            });
            if (getCurrentTask()?.attempt === 1) throw new Error('worker crashed after the agent finished');
            return { text: result.text };
          } finally {
            await weather.close();
          }
        });

        const snapshot = await runTaskToEnd(absurd, 'weather-agent', { prompt: 'What is the weather in Vienna?' });

        assert.equal(attempts.length, 2);
        const [live, replay] = attempts as [AttemptRecord, AttemptRecord];
        assert.deepEqual(snapshot, { state: 'completed', result: { text: replay.text } });

        // The live attempt really used the server: every tool ran once, the side effect happened once.
        assert.equal(live.modelRequests, 2);
        assert.deepEqual(fixture.visits(), ['ana']);
        const calls = fixture.traffic().filter((entry) => entry.method === 'tools/call').map((entry) => entry.tool);
        assert.deepEqual(calls.sort(), ['forecast', 'lookup_station', 'record_visit', 'render_chart']);
        assert.match(live.text, /^Instructions received\. /);
        assert.match(live.text, /forecast -> .*Vienna: sunny, high 22C/);
        assert.match(live.text, /record_visit -> .*Visit #1 recorded for ana/);
        assert.match(live.text, /lookup_station -> .*No station with code XX/);

        // The replay reached neither the MCP server nor the model, and saw the same run.
        assert.equal(replay.clientsCreated, live.clientsCreated);
        assert.equal(replay.mcpConnections, live.mcpConnections);
        assert.equal(replay.mcpTraffic, live.mcpTraffic);
        assert.equal(replay.modelRequests, live.modelRequests);
        assert.equal(replay.text, live.text);
        assert.deepStrictEqual(replay.toolResults, live.toolResults);
        assert.deepStrictEqual(replay.responseMessages, live.responseMessages);

        // MCP results keep their MCP shape: an isError result and an image come back as returned.
        const results = live.toolResults as Array<{ toolName: string; output?: { isError?: boolean; content: unknown[] } }>;
        assert.equal(results.find((part) => part.toolName === 'lookup_station')?.output?.isError, true);
        assert.equal(
          (results.find((part) => part.toolName === 'render_chart')?.output?.content[1] as { type: string }).type,
          'image',
        );
      });
    });
  }
}
