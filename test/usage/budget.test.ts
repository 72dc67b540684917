// Budgets at their boundary, with the real absurd-sdk client and a real database: a run stops before the
// model call after its spend reached the limit, counting the calls of every attempt and of sub-agent
// children; with onExceeded 'suspend' a person raises the budget through the approvals machinery.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stepCountIs, tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { decideToolCall, listPendingApprovals } from '../../src/approvals/approval-store.ts';
import { createDashboardApp } from '../../src/dashboard/dashboard-app.ts';
import { BudgetExceededError } from '../../src/errors/budget-exceeded-error.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { subAgentTool } from '../../src/tools/sub-agent-tool.ts';
import { readUsage } from '../../src/usage/usage-report.ts';
import { failureOf, mockUsage, openAgentHarness, scriptedModel, turnIndex, type AgentHarness } from '../agent/agent-harness.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

const perCall = mockUsage.inputTokens.total + mockUsage.outputTokens.total;

/** A model that asks for one more `work` call on every turn, so only a budget (or the step limit) ends the run. */
function endlessModel(modelId = 'endless') {
  return scriptedModel((options) => ({ toolCalls: [{ toolCallId: `call-${turnIndex(options)}`, toolName: 'work', input: { n: turnIndex(options) } }] }), {
    provider: 'acme',
    modelId,
  });
}

const work = tool({ inputSchema: z.object({ n: z.number() }), execute: async ({ n }) => `did ${n}` });

async function runs(taskID: string): Promise<number> {
  const { rows } = await harness.database.query<{ n: number }>('select count(*)::int as n from ai_sdk_absurd.runs where task_id = $1', [taskID]);
  return rows[0]!.n;
}

describe('budgets', () => {
  test('the run stops before the call after the limit is reached, not one call earlier or later; no retry', async () => {
    for (const [limit, paidCalls] of [
      [3 * perCall, 3],
      [3 * perCall + 1, 4],
    ] as const) {
      const model = endlessModel();
      const agent = new AbsurdAgent({ id: `boundary-${limit}`, model, tools: { work }, budget: { tokens: limit } }, harness.absurd);
      harness.absurd.registerTask({ name: `boundary-${limit}` }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
      const { taskID, snapshot } = await harness.run(`boundary-${limit}`, {}, { maxAttempts: 3 });
      assert.equal(model.doGenerateCalls.length, paidCalls, `limit ${limit}`);
      const failure = failureOf(snapshot);
      assert.equal(failure.name, 'AiSdkAbsurdBudgetExceededError');
      assert.match(failure.message, new RegExp(`has spent ${paidCalls * perCall} tokens in ${paidCalls} model calls`));
      assert.match(failure.message, new RegExp(`model call boundary-${limit}:1/model:${paidCalls + 1} was not made`));
      assert.equal(await runs(taskID), 1, 'a budget failure is permanent: no further attempt');
    }
  });

  test('a streamed run stops at its budget the same way', async () => {
    const model = endlessModel();
    const agent = new AbsurdAgent({ id: 'streamer', model, tools: { work }, budget: { tokens: 2 * perCall } }, harness.absurd);
    harness.absurd.registerTask({ name: 'streamer' }, async () => {
      const result = await agent.stream({ prompt: 'go', durableStream: false });
      return { text: await result.text };
    });
    const { taskID, snapshot } = await harness.run('streamer', {}, { maxAttempts: 3 });
    assert.equal(model.doStreamCalls.length, 2);
    assert.equal(failureOf(snapshot).name, 'AiSdkAbsurdBudgetExceededError');
    assert.equal(await runs(taskID), 1);
  });

  test('the error names the budget, the spend and where; cost limits use the prices', async () => {
    const model = endlessModel('priced');
    const agent = new AbsurdAgent(
      {
        id: 'priced',
        model,
        tools: { work },
        budget: { cost: 2 * perCall, prices: { priced: { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 } } },
      },
      harness.absurd,
    );
    let caught: unknown;
    harness.absurd.registerTask({ name: 'priced' }, async () => {
      try {
        return await agent.generate({ prompt: 'go' });
      } catch (error) {
        caught = error;
        throw error;
      }
    });
    const { taskID } = await harness.run('priced', {});
    assert.ok(BudgetExceededError.isInstance(caught));
    const error = caught as BudgetExceededError;
    assert.deepEqual(
      { budget: error.budget, spent: error.spent, limit: error.limit, taskID: error.taskID, agent: error.agent, stepName: error.stepName, denied: error.denied },
      { budget: { cost: 2 * perCall }, spent: { modelCalls: 2, tokens: 2 * perCall, cost: 2 * perCall }, limit: 'cost', taskID, agent: 'priced', stepName: 'priced:1/model:3', denied: false },
    );
    assert.equal(error.queueName, harness.absurd.queue);
  });

  test('a run resumed after a crash continues from what its lost attempt spent', async () => {
    const model = endlessModel();
    const agent = new AbsurdAgent({ id: 'resumed', model, tools: { work }, budget: { tokens: 4 * perCall } }, harness.absurd);
    harness.absurd.registerTask({ name: 'resumed' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
    // Attempt 1 dies after writing two model calls and their tool calls (four checkpoints).
    harness.crash.arm(4);
    const { taskID, snapshot } = await harness.run('resumed', {}, { maxAttempts: 3 });
    assert.equal(failureOf(snapshot).name, 'AiSdkAbsurdBudgetExceededError');
    assert.equal(model.doGenerateCalls.length, 4, 'two calls before the crash, two after: four in all');
    assert.equal(await runs(taskID), 2);
    const usage = await readUsage(harness.database, { taskID });
    assert.equal(usage.totals.modelCalls, 4);
    assert.equal(usage.totals.totalTokens, 4 * perCall);
  });

  test("counts: 'task' counts every agent's calls in the task; 'agent' only its own", async () => {
    const helperModel = endlessModel('helper');
    const helper = new AbsurdAgent({ id: 'helper', model: helperModel, tools: { work }, stopWhen: stepCountIs(3) }, harness.absurd);
    const leadCalls: Record<string, number> = {};
    for (const counts of ['task', 'agent'] as const) {
      const leadModel = endlessModel();
      const lead = new AbsurdAgent({ id: `lead-${counts}`, model: leadModel, tools: { work }, budget: { tokens: 4 * perCall, counts } }, harness.absurd);
      harness.absurd.registerTask({ name: `counts-${counts}` }, async () => {
        await helper.generate({ prompt: 'first' });
        return await lead.generate({ prompt: 'then' });
      });
      const before = helperModel.doGenerateCalls.length;
      const { snapshot } = await harness.run(`counts-${counts}`, {});
      assert.equal(helperModel.doGenerateCalls.length - before, 3, 'the helper ran its three calls');
      const failure = failureOf(snapshot);
      assert.match(failure.message, counts === 'task' ? /^Budget exceeded: task .* in 4 model calls/ : /^Budget exceeded: agent "lead-agent" .* in 4 model calls/);
      leadCalls[counts] = leadModel.doGenerateCalls.length;
    }
    // With the helper's three calls counted, the lead makes one call; counting only itself, four.
    assert.deepEqual(leadCalls, { task: 1, agent: 4 });
  });

  test("a sub-agent child's spend counts in its parent's budget", async () => {
    const childModel = scriptedModel((options) => (turnIndex(options) < 2 ? { toolCalls: [{ toolCallId: `c-${turnIndex(options)}`, toolName: 'work', input: { n: 1 } }] } : { text: 'child done' }));
    const child = new AbsurdAgent({ id: 'child', model: childModel, tools: { work } }, harness.absurd);
    const delegate = subAgentTool(child, { description: 'Delegate.' });
    const parentModel = scriptedModel((options) =>
      turnIndex(options) === 0 ? { toolCalls: [{ toolCallId: 'd-0', toolName: 'delegate', input: { prompt: 'help' } }] } : { text: 'parent done' },
    );
    // One parent call (15) and the child's three (45) reach 60: the parent's second call is not made.
    const parent = new AbsurdAgent({ id: 'parent', model: parentModel, tools: { delegate }, budget: { tokens: 4 * perCall } }, harness.absurd);
    harness.absurd.registerTask({ name: 'parent' }, async () => ({ text: (await parent.generate({ prompt: 'go' })).text }));
    const { taskID, snapshot } = await harness.run('parent', {}, { maxRuns: 30 });
    assert.equal(childModel.doGenerateCalls.length, 3);
    assert.equal(parentModel.doGenerateCalls.length, 1);
    const failure = failureOf(snapshot);
    assert.equal(failure.name, 'AiSdkAbsurdBudgetExceededError');
    assert.match(failure.message, new RegExp(`agent "parent" in task ${taskID} has spent ${4 * perCall} tokens in 4 model calls`));
  });

  test("onExceeded 'suspend': a person raises the budget, the run continues; a denial fails it", async () => {
    const model = endlessModel();
    const agent = new AbsurdAgent(
      { id: 'asks', model, tools: { work }, budget: { tokens: 2 * perCall, raiseBy: { tokens: perCall }, onExceeded: 'suspend' } },
      harness.absurd,
    );
    harness.absurd.registerTask({ name: 'asks' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
    const { taskID } = await harness.absurd.spawn('asks', {});
    await harness.absurd.workBatch('raise', 60, 1);
    assert.equal((await harness.absurd.fetchTaskResult(taskID))?.state, 'sleeping');
    assert.equal(model.doGenerateCalls.length, 2);
    const [request, ...others] = await listPendingApprovals(harness.database, { taskID });
    assert.deepEqual(others, []);
    assert.equal(request?.toolName, 'raise-budget');
    assert.equal(request?.toolCallId, 'budget:asks:1');
    assert.deepEqual(request?.input, {
      agent: 'asks',
      budget: { tokens: 2 * perCall },
      spent: { modelCalls: 2, tokens: 2 * perCall },
      raiseBy: { tokens: perCall },
      nextModelCall: 'asks:1/model:3',
    });

    // Raised from the dashboard's approvals page by one call's worth: exactly one more call, then a second request.
    const dashboard = createDashboardApp({ absurd: harness.absurd, token: 'secret-token', readOnly: false, allowedHosts: () => ['127.0.0.1:4800'] });
    const headers = { host: '127.0.0.1:4800', origin: 'http://127.0.0.1:4800', cookie: 'ai_sdk_absurd_dashboard=secret-token' };
    const listed = await (await dashboard.request('/approvals', { headers })).text();
    assert.match(listed, /raise-budget <code>budget:asks:1<\/code>/);
    const decided = await dashboard.request('/approvals/decide', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'secret-token', taskID, requestId: request!.requestId, approved: 'true' }).toString(),
    });
    assert.equal(decided.status, 303);
    assert.match(decided.headers.get('location') ?? '', /done=approved/);
    await harness.absurd.workBatch('raise', 60, 1);
    assert.equal((await harness.absurd.fetchTaskResult(taskID))?.state, 'sleeping');
    assert.equal(model.doGenerateCalls.length, 3);
    const [second] = await listPendingApprovals(harness.database, { taskID });
    assert.equal(second?.toolCallId, 'budget:asks:2');

    await decideToolCall(harness.absurd.database, { taskID, toolCallId: 'budget:asks:2', approved: false, reason: 'enough' });
    await harness.absurd.workBatch('raise', 60, 1);
    const snapshot = await harness.absurd.fetchTaskResult(taskID);
    const failure = failureOf(snapshot!);
    assert.equal(failure.name, 'AiSdkAbsurdBudgetExceededError');
    assert.match(failure.message, /limit of 45 tokens; model call asks:1\/model:4 was not made\. A person denied raising it \(enough\)\./);
    assert.equal(model.doGenerateCalls.length, 3);
  });

  test('bad budgets are refused when the agent is built', () => {
    const refused = (budget: unknown, setting: string) =>
      assert.throws(
        () => new AbsurdAgent({ id: 'bad', model: endlessModel(), budget: budget as never }, harness.absurd),
        (error: unknown) => error instanceof ConfigurationError && error.setting === setting,
      );
    refused({}, 'budget');
    refused({ tokens: -1 }, 'budget.tokens');
    refused({ cost: 1 }, 'budget.prices');
    refused({ tokens: 1, onExceeded: 'ask' }, 'budget.onExceeded');
    refused({ tokens: 1, counts: 'queue' }, 'budget.counts');
    refused({ cost: 1, prices: { m: { inputPerMillion: 'x' } } }, 'budget.prices');
  });
});
