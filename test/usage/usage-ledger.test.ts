// The spend ledger: model usage per task, agent and model, read from the checkpoints through the SQL views,
// and the tokens a resumed run did not pay again because it replayed them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { readUsage } from '../../src/usage/usage-report.ts';
import { MockLanguageModelV4 } from 'ai/test';
import { generateResult, mockUsage, openAgentHarness, scriptedModel, turnIndex, type AgentHarness } from '../agent/agent-harness.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

const perCall = { input: mockUsage.inputTokens.total, output: mockUsage.outputTokens.total };

describe('usage', () => {
  test('a run resumed after a crash: every model call counted once, the replayed one as saved', async () => {
    const model = scriptedModel(
      (options) =>
        turnIndex(options) === 0
          ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'lookup', input: { q: 'x' } }] }
          : { text: 'done' },
      { provider: 'acme', modelId: 'acme-large' },
    );
    const lookup = tool({ inputSchema: z.object({ q: z.string() }), execute: async () => 'found' });
    const agent = new AbsurdAgent({ id: 'ledger', model, tools: { lookup } }, harness.absurd);
    harness.absurd.registerTask({ name: 'ledger' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));

    // Crash after the first model call and its tool call are written: attempt 2 replays both.
    harness.crash.arm(2);
    const { taskID, snapshot } = await harness.run('ledger', {});
    assert.equal(snapshot.state, 'completed');
    assert.equal(model.doGenerateCalls.length, 2, 'two model calls were paid for');

    const { rows: calls } = await harness.database.query(
      `select checkpoint_name, agent, provider, model_id, input_tokens::int, output_tokens::int, written_by_attempt, replays
       from ai_sdk_absurd.model_calls where task_id = $1 order by checkpoint_name`,
      [taskID],
    );
    assert.deepEqual(calls, [
      { checkpoint_name: 'ledger:1/model:1', agent: 'ledger', provider: 'acme', model_id: 'acme-large', input_tokens: perCall.input, output_tokens: perCall.output, written_by_attempt: 1, replays: 1 },
      { checkpoint_name: 'ledger:1/model:2', agent: 'ledger', provider: 'acme', model_id: 'acme-large', input_tokens: perCall.input, output_tokens: perCall.output, written_by_attempt: 2, replays: 0 },
    ]);

    const report = await readUsage(harness.database, { taskID, prices: { 'acme-large': { inputPerMillion: 2_000_000, outputPerMillion: 8_000_000 } } });
    assert.deepEqual(report.totals, {
      modelCalls: 2,
      inputTokens: 2 * perCall.input,
      outputTokens: 2 * perCall.output,
      totalTokens: 2 * (perCall.input + perCall.output),
      reasoningTokens: 0,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      replayedCalls: 1,
      savedInputTokens: perCall.input,
      savedOutputTokens: perCall.output,
      savedTokens: perCall.input + perCall.output,
      cost: 2 * (perCall.input * 2 + perCall.output * 8),
      savedCost: perCall.input * 2 + perCall.output * 8,
    });
    assert.deepEqual(report.byAgent.map((row) => [row.agent, row.modelCalls]), [['ledger', 2]]);
    assert.deepEqual(report.byModel.map((row) => [row.modelId, row.totalTokens]), [['acme-large', 2 * (perCall.input + perCall.output)]]);
    assert.deepEqual(report.byTask.map((row) => [row.taskID, row.taskName, row.savedTokens]), [[taskID, 'ledger', perCall.input + perCall.output]]);

    const { rows: usage } = await harness.database.query(`select model_calls, input_tokens::int, saved_input_tokens::int from ai_sdk_absurd.usage where task_id = $1`, [taskID]);
    assert.deepEqual(usage, [{ model_calls: 2, input_tokens: 2 * perCall.input, saved_input_tokens: perCall.input }]);
    const { rows: tools } = await harness.database.query(`select tool_name, outcome, written_by_attempt from ai_sdk_absurd.tool_calls where task_id = $1`, [taskID]);
    assert.deepEqual(tools, [{ tool_name: 'lookup', outcome: 'ok', written_by_attempt: 1 }]);
    const { rows: runs } = await harness.database.query(`select attempt, state from ai_sdk_absurd.runs where task_id = $1 order by attempt`, [taskID]);
    assert.deepEqual(runs, [{ attempt: 1, state: 'failed' }, { attempt: 2, state: 'completed' }]);
  });

  test('reasoning and cached tokens, model id and provider are recorded per call and priced per kind', async () => {
    const usage = {
      inputTokens: { total: 100, noCache: 30, cacheRead: 60, cacheWrite: 10 },
      outputTokens: { total: 40, text: 15, reasoning: 25 },
    };
    const model = new MockLanguageModelV4({
      provider: 'thinker.chat',
      modelId: 'thinker-1',
      doGenerate: async () => ({ ...generateResult({ text: 'thought' }), usage }),
    });
    const agent = new AbsurdAgent({ id: 'thinker', model }, harness.absurd);
    harness.absurd.registerTask({ name: 'thinker' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
    const { taskID, snapshot } = await harness.run('thinker', {});
    assert.equal(snapshot.state, 'completed');
    const { rows } = await harness.database.query(
      `select provider, model_id, input_tokens::int, output_tokens::int, reasoning_tokens::int, cached_input_tokens::int, cache_write_tokens::int
       from ai_sdk_absurd.model_calls where task_id = $1`,
      [taskID],
    );
    assert.deepEqual(rows, [
      { provider: 'thinker.chat', model_id: 'thinker-1', input_tokens: 100, output_tokens: 40, reasoning_tokens: 25, cached_input_tokens: 60, cache_write_tokens: 10 },
    ]);
    const { rows: view } = await harness.database.query(
      'select reasoning_tokens::int, cached_input_tokens::int, cache_write_tokens::int from ai_sdk_absurd.usage where task_id = $1',
      [taskID],
    );
    assert.deepEqual(view, [{ reasoning_tokens: 25, cached_input_tokens: 60, cache_write_tokens: 10 }]);
    const report = await readUsage(harness.database, {
      taskID,
      prices: { 'thinker-1': { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000, cachedInputPerMillion: 100_000 } },
    });
    assert.deepEqual(
      [report.totals.reasoningTokens, report.totals.cachedInputTokens, report.totals.cacheWriteTokens, report.totals.cost],
      [25, 60, 10, 40 * 1 + 60 * 0.1 + 40 * 2],
    );
    assert.deepEqual(report.byModel.map((row) => [row.provider, row.modelId, row.reasoningTokens]), [['thinker.chat', 'thinker-1', 25]]);
  });

  test('filters: agent, queue, since; a model without a price leaves the cost unknown', async () => {
    const future = await readUsage(harness.database, { since: '2999-01-01T00:00:00Z' });
    assert.equal(future.totals.modelCalls, 0);
    const none = await readUsage(harness.database, { agent: 'nobody' });
    assert.deepEqual(none.byAgent, []);
    const queue = await readUsage(harness.database, { queue: harness.absurd.queue, prices: {} });
    assert.ok(queue.totals.modelCalls >= 2);
    assert.equal(queue.totals.cost, undefined);
  });

  test('bad options are refused with what to pass instead', async () => {
    const refused = (options: Parameters<typeof readUsage>[1], setting: string) =>
      assert.rejects(readUsage(harness.database, options), (error: unknown) => error instanceof ConfigurationError && error.setting === setting);
    await refused({ taskID: 'nope' }, 'taskID');
    await refused({ since: 'yesterday' }, 'since');
    await refused({ prices: { m: { inputPerMillion: -1, outputPerMillion: 1 } } }, 'prices');
  });
});
