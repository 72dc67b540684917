// A task's budget (registerTask's `budget`): one limit over every agent of the task, checked before each
// live model call, beside each agent's own budget; with the real absurd-sdk client and a real database.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { failureOf, mockUsage, openAgentHarness, scriptedModel, turnIndex, type AgentHarness } from '../agent/agent-harness.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

const perCall = mockUsage.inputTokens.total + mockUsage.outputTokens.total;
const work = tool({ inputSchema: z.object({ n: z.number() }), execute: async ({ n }) => `did ${n}` });

/** A model that calls `work` on its first `toolTurns` turns, then answers; Infinity never answers. */
function modelWithTurns(toolTurns: number, modelId: string) {
  return scriptedModel(
    (options) =>
      turnIndex(options) < toolTurns
        ? { toolCalls: [{ toolCallId: `call-${turnIndex(options)}`, toolName: 'work', input: { n: turnIndex(options) } }] }
        : { text: 'done' },
    { provider: 'acme', modelId },
  );
}

async function runs(taskID: string): Promise<number> {
  const { rows } = await harness.database.query<{ n: number }>('select count(*)::int as n from ai_sdk_absurd.runs where task_id = $1', [taskID]);
  return rows[0]!.n;
}

describe('task budgets', () => {
  test('count the model calls of every agent in the task and stop the next one at the limit, without a retry', async () => {
    const planner = modelWithTurns(1, 'planner-model');
    const writer = modelWithTurns(Number.POSITIVE_INFINITY, 'writer-model');
    const plannerAgent = new AbsurdAgent({ id: 'planner', model: planner, tools: { work } }, harness.absurd);
    const writerAgent = new AbsurdAgent({ id: 'writer', model: writer, tools: { work } }, harness.absurd);
    harness.absurd.registerTask({ name: 'plan-and-write', budget: { tokens: 4 * perCall } }, async () => {
      const plan = await plannerAgent.generate({ prompt: 'plan' });
      return { text: (await writerAgent.generate({ prompt: plan.text })).text };
    });
    const { taskID, snapshot } = await harness.run('plan-and-write', {}, { maxAttempts: 3 });
    assert.equal(planner.doGenerateCalls.length, 2, 'the planner finished within the budget');
    assert.equal(writer.doGenerateCalls.length, 2, 'the writer was stopped once the task had spent 4 calls');
    const failure = failureOf(snapshot);
    assert.equal(failure.name, 'AiSdkAbsurdBudgetExceededError');
    assert.match(failure.message, new RegExp(`has spent ${4 * perCall} tokens in 4 model calls`));
    assert.match(failure.message, /model call writer:1\/model:3 was not made/);
    assert.equal(await runs(taskID), 1, 'a budget failure is permanent');
  });

  test('apply beside an agent budget: the tighter one stops the run', async () => {
    const model = modelWithTurns(Number.POSITIVE_INFINITY, 'tight-model');
    const agent = new AbsurdAgent({ id: 'tight', model, tools: { work }, budget: { tokens: 10 * perCall } }, harness.absurd);
    harness.absurd.registerTask({ name: 'tight-task', budget: { tokens: 2 * perCall } }, async () => (await agent.generate({ prompt: 'go' })).text);
    const { snapshot } = await harness.run('tight-task', {}, { maxAttempts: 1 });
    assert.equal(model.doGenerateCalls.length, 2);
    assert.equal(failureOf(snapshot).name, 'AiSdkAbsurdBudgetExceededError');
  });

  test('a task within its budget completes', async () => {
    const model = modelWithTurns(2, 'roomy-model');
    const agent = new AbsurdAgent({ id: 'roomy', model, tools: { work } }, harness.absurd);
    harness.absurd.registerTask({ name: 'roomy-task', budget: { tokens: 3 * perCall } }, async () => (await agent.generate({ prompt: 'go' })).text);
    const { snapshot } = await harness.run('roomy-task', {}, { maxAttempts: 1 });
    assert.deepEqual(snapshot, { state: 'completed', result: 'done' });
    assert.equal(model.doGenerateCalls.length, 3);
  });

  test('bad settings are refused when the task is registered', () => {
    assert.throws(
      () => harness.absurd.registerTask({ name: 'no-limit', budget: {} }, async () => null),
      (error: unknown) => error instanceof ConfigurationError && /budget needs a limit/.test(error.message),
    );
    assert.throws(
      () => harness.absurd.registerTask({ name: 'with-counts', budget: { tokens: 5, counts: 'agent' } as never }, async () => null),
      (error: unknown) => error instanceof ConfigurationError && /remove budget\.counts/.test(error.message),
    );
  });
});
