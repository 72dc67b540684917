// The AI SDK's own `timeout` aborts a run like a caller's abort signal does: `totalMs` and `stepMs`
// firing while a tool runs end the attempt, the tool's abort is never recorded as its outcome, and
// the next attempt runs the tool again. `toolMs` is different: the SDK shows that timeout to the model
// as the tool's result and continues, so it is recorded and replayed like any other tool error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateText, isStepCount, streamText, tool, type TimeoutConfiguration, type ToolSet } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { durableModel } from '../../src/agent/durable-model.ts';
import { durableTools } from '../../src/agent/durable-tool.ts';
import { currentAttempt, openAgentHarness, scriptedModel, toolOutputsInPrompt, turnIndex, type AgentHarness } from './agent-harness.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

type Api = 'AbsurdAgent.generate' | 'AbsurdAgent.stream' | 'generateText' | 'streamText';

/**
 * A task whose model asks for `fetchReport` once, then answers with what the tool said. On the first
 * attempt the tool waits for its abort signal (bounded) and throws its reason; later it answers at once.
 */
function timeoutTask(taskName: string, api: Api, timeout: TimeoutConfiguration<ToolSet>, options: { crashAfterRun?: boolean } = {}) {
  const model = scriptedModel((options) =>
    turnIndex(options) === 0
      ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'fetchReport', input: { id: 7 } }] }
      : { text: `tool said ${toolOutputsInPrompt(options).join(',')}` },
  );
  const toolRuns: number[] = [];
  const tools = {
    fetchReport: tool({
      inputSchema: z.object({ id: z.number() }),
      execute: async (_input, { abortSignal }): Promise<string> => {
        toolRuns.push(currentAttempt());
        if (currentAttempt() > 1) return 'report 7';
        await new Promise<void>((resolve) => {
          const bound = setTimeout(resolve, 20_000);
          abortSignal?.addEventListener('abort', () => (clearTimeout(bound), resolve()), { once: true });
        });
        throw abortSignal?.aborted ? abortSignal.reason : new Error('the timeout never fired');
      },
    }),
  };
  const results: string[] = [];
  const run = async (): Promise<string> => {
    // Only the first attempt has a timeout, so the retry cannot time out on a slow machine.
    const callTimeout = currentAttempt() === 1 ? timeout : undefined;
    if (api === 'AbsurdAgent.generate' || api === 'AbsurdAgent.stream') {
      const agent = new AbsurdAgent({ id: taskName, model, tools }, harness.absurd);
      if (api === 'AbsurdAgent.generate') return (await agent.generate({ prompt: 'report', timeout: callTimeout })).text;
      return await (await agent.stream({ prompt: 'report', timeout: callTimeout })).text;
    }
    const durable = { model: durableModel(model, { name: taskName }), tools: durableTools(tools, { name: taskName }) };
    const options = { ...durable, prompt: 'report', maxRetries: 0, stopWhen: isStepCount(5), timeout: callTimeout };
    return api === 'generateText' ? (await generateText(options)).text : await streamText({ ...options, onError: () => {} }).text;
  };
  harness.absurd.registerTask({ name: taskName }, async () => {
    const text = await run();
    results.push(text);
    // Failing the first attempt after its run makes the second replay every checkpoint.
    if (options.crashAfterRun && currentAttempt() === 1) throw new Error('crash after the run');
    return text;
  });
  return { model, toolRuns, results };
}

describe('totalMs and stepMs firing during a tool abort the attempt; the tool runs again', () => {
  const cases: Array<[Api, TimeoutConfiguration<ToolSet>]> = [
    ['AbsurdAgent.generate', { totalMs: 1000 }],
    ['AbsurdAgent.generate', { stepMs: 1000 }],
    ['AbsurdAgent.stream', { totalMs: 1000 }],
    ['generateText', { totalMs: 1000 }],
    ['streamText', { stepMs: 1000 }],
  ];
  for (const [api, timeout] of cases) {
    const kind = Object.keys(timeout)[0]!;
    test(`${api} with ${kind}`, async () => {
      const taskName = `timeout-${api.replace('.', '-')}-${kind}`;
      const { toolRuns } = timeoutTask(taskName, api, timeout);
      const { taskID, snapshot } = await harness.run(taskName, {});
      assert.deepEqual(snapshot, { state: 'completed', result: 'tool said {"type":"text","value":"report 7"}' });
      assert.deepEqual(toolRuns, [1, 2], 'the tool was aborted on the first attempt and ran again on the second');
      const toolCheckpoints = (await harness.checkpoints(taskID)).filter((checkpoint) => checkpoint.name.includes('/tool:'));
      assert.equal(toolCheckpoints.length, 1);
      assert.equal(toolCheckpoints[0]!.state.outcome, 'ok', 'the abort was never recorded as the tool outcome');
    });
  }
});

describe("toolMs is the tool's outcome: the model sees it, and a replay does not run the tool again", () => {
  for (const api of ['AbsurdAgent.generate', 'generateText'] as const) {
    test(api, async () => {
      const taskName = `tool-timeout-${api.replace('.', '-')}`;
      const { model, toolRuns, results } = timeoutTask(taskName, api, { toolMs: 200 }, { crashAfterRun: true });
      const { snapshot } = await harness.run(taskName, {});
      assert.equal(snapshot.state, 'completed');
      assert.match(results[0]!, /error/i, 'the model was told that the tool timed out');
      assert.deepEqual(results[1], results[0]);
      assert.deepEqual(toolRuns, [1], 'the recorded timeout was replayed');
      assert.equal(model.doGenerateCalls.length, 2);
    });
  }
});
