// A multi-step agent run (parallel tool calls, a failing tool, a tool call id the model reuses, text)
// is interrupted right after each of its checkpoint writes in turn and resumed by Absurd. Every resumed
// run must return what the uninterrupted run returned, without repeating a checkpointed model call or
// tool side effect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import {
  currentAttempt,
  openAgentHarness,
  scriptedModel,
  snapshotGenerateResult,
  snapshotStreamResult,
  toolOutputsInPrompt,
  turnIndex,
  type AgentHarness,
} from './agent-harness.ts';

const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second));

/** Which checkpoint each tool side effect belongs to (the model reuses the id "call-1"). */
const stepOfEffect: Record<string, string> = {
  'lookup:SF': 'weather:1/model:1/tool:lookup:call-1',
  'lookup:NY': 'weather:1/model:1/tool:lookup:call-2',
  'flaky:-': 'weather:1/model:1/tool:flaky:call-3',
  'lookup:LA': 'weather:1/model:2/tool:lookup:call-1',
};

interface Observed {
  modelCalls: Array<{ step: string; attempt: number }>;
  effects: Array<{ step: string; attempt: number }>;
}

function weatherAgent(harness: AgentHarness, observed: Observed, toolCallConcurrency: number | undefined) {
  const model = scriptedModel((options) => {
    const turn = turnIndex(options);
    if (!harness.crash.crashed) observed.modelCalls.push({ step: `weather:1/model:${turn + 1}`, attempt: currentAttempt() });
    const response = { id: `resp-${turn + 1}`, timestamp: at(turn + 1), modelId: 'mock-model-id' };
    if (turn === 0) {
      return {
        text: 'Checking the weather. ',
        toolCalls: [
          { toolCallId: 'call-1', toolName: 'lookup', input: { city: 'SF' } },
          { toolCallId: 'call-2', toolName: 'lookup', input: { city: 'NY' } },
          { toolCallId: 'call-3', toolName: 'flaky', input: {} },
        ],
        response,
      };
    }
    if (turn === 1) return { toolCalls: [{ toolCallId: 'call-1', toolName: 'lookup', input: { city: 'LA' } }], response };
    return { text: `Done: ${toolOutputsInPrompt(options).join(' | ')}`, response };
  });
  const effect = (key: string) => {
    // Work started after the crash never happens: the process is gone.
    if (!harness.crash.crashed) observed.effects.push({ step: stepOfEffect[key]!, attempt: currentAttempt() });
  };
  return new AbsurdAgent(
    {
      id: 'weather',
      model,
      instructions: 'Report the weather.',
      ...(toolCallConcurrency ? { toolCallConcurrency } : {}),
      tools: {
        lookup: tool({
          description: 'Looks up the weather of a city.',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            effect(`lookup:${city}`);
            await yieldToEventLoop();
            return { city, temperature: city.length * 10, observedAt: at(30), raw: new Uint8Array([1, 2, 3]) };
          },
        }),
        flaky: tool({
          description: 'Always fails.',
          inputSchema: z.object({}),
          execute: async (): Promise<string> => {
            effect('flaky:-');
            await yieldToEventLoop();
            throw new TypeError('weather service unavailable');
          },
        }),
      },
    },
    harness.absurd,
  );
}

for (const mode of ['generate', 'stream'] as const) {
  for (const toolCallConcurrency of [undefined, 1]) {
    describe(`replay fidelity: ${mode}, tool calls ${toolCallConcurrency ? 'one at a time' : 'concurrent'}`, () => {
      let harness: AgentHarness;
      const observed: Observed = { modelCalls: [], effects: [] };
      const snapshots = new Map<string, unknown>();

      before(async () => {
        harness = await openAgentHarness();
        const agent = weatherAgent(harness, observed, toolCallConcurrency);
        harness.absurd.registerTask({ name: 'weather' }, async (params: { prompt: string }, ctx) => {
          const snapshot =
            mode === 'generate'
              ? snapshotGenerateResult(await agent.generate({ prompt: params.prompt }))
              : await snapshotStreamResult(await agent.stream({ prompt: params.prompt }));
          snapshots.set(ctx.taskID, snapshot);
          return { ok: true };
        });
      });
      after(() => harness.close());

      test('an interrupted run resumes to the uninterrupted result at every checkpoint boundary', async () => {
        const baseline = await harness.run('weather', { prompt: 'Weather in SF, NY and LA?' });
        assert.equal(baseline.snapshot.state, 'completed');
        const expected = snapshots.get(baseline.taskID);
        const written = (await harness.checkpoints(baseline.taskID)).map((checkpoint) => checkpoint.name);
        assert.deepEqual([...written].sort(), [
          'weather:1/model:1',
          'weather:1/model:1/tool:flaky:call-3',
          'weather:1/model:1/tool:lookup:call-1',
          'weather:1/model:1/tool:lookup:call-2',
          'weather:1/model:2',
          'weather:1/model:2/tool:lookup:call-1',
          'weather:1/model:3',
        ]);
        const text = (expected as { text: string }).text;
        assert.match(text, /TypeError: weather service unavailable/);
        assert.match(text, /1970|2025-01-01T00:00:30.000Z/);

        for (let crashAfter = 1; crashAfter <= written.length; crashAfter++) {
          observed.modelCalls.length = 0;
          observed.effects.length = 0;
          harness.crash.arm(crashAfter);
          const resumed = await harness.run('weather', { prompt: 'Weather in SF, NY and LA?' });
          const label = `crash after write ${crashAfter} (${harness.crash.writtenBeforeCrash.at(-1)})`;
          assert.equal(resumed.snapshot.state, 'completed', label);
          assert.equal(harness.crash.writtenBeforeCrash.length, crashAfter, label);
          assert.deepEqual(snapshots.get(resumed.taskID), expected, label);

          const durable = harness.crash.committed;
          for (const step of ['weather:1/model:1', 'weather:1/model:2', 'weather:1/model:3']) {
            const calls = observed.modelCalls.filter((call) => call.step === step);
            const resumedCalls = calls.filter((call) => call.attempt === 2).length;
            // A checkpointed model call is never made again; one that was not is made once more.
            assert.equal(resumedCalls, durable.has(step) ? 0 : 1, `${label}: ${step} on attempt 2`);
            assert.ok(calls.length <= 2, `${label}: ${step} called ${calls.length} times`);
          }
          for (const step of Object.values(stepOfEffect)) {
            const effects = observed.effects.filter((effect) => effect.step === step);
            const firstAttempt = effects.filter((effect) => effect.attempt === 1).length;
            const resumedEffects = effects.filter((effect) => effect.attempt === 2).length;
            assert.equal(resumedEffects, durable.has(step) ? 0 : 1, `${label}: ${step} on attempt 2`);
            assert.ok(firstAttempt <= 1, `${label}: ${step} ran ${firstAttempt} times on attempt 1`);
            if (toolCallConcurrency === 1) {
              // With one tool at a time, no side effect is in flight at a checkpoint write: each runs exactly once.
              assert.equal(effects.length, 1, `${label}: ${step} ran ${effects.length} times`);
            }
          }
        }
      });
    });
  }
}
