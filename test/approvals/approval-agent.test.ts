// Durable tool approval inside one process: the run suspends on a tool call that needs approval,
// frees the worker, and continues after the decision as if the person had answered in place.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** Asks for a refund, then reports what the tool result (or the denial) said. Answers from the prompt alone. */
function refundModel() {
  const prompts: LanguageModelV4CallOptions['prompt'][] = [];
  const model = new MockLanguageModelV4({
    doGenerate: async (options) => {
      prompts.push(options.prompt);
      const toolMessage = options.prompt.findLast((message) => message.role === 'tool');
      if (!toolMessage) {
        return {
          content: [{ type: 'tool-call', toolCallId: 'call-refund', toolName: 'refund', input: '{"amount":42}' }],
          finishReason: { unified: 'tool-calls', raw: undefined },
          usage,
          warnings: [],
        };
      }
      const output = JSON.stringify(toolMessage.content.map((part) => ('output' in part ? part.output : part)));
      return { content: [{ type: 'text', text: `done: ${output}` }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] };
    },
  });
  return { model, prompts };
}

describe('durable tool approval', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  async function setup(settings: { approvals?: 'suspend' | 'return'; approvalTimeout?: any } = {}) {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('approve') });
    const { model, prompts } = refundModel();
    const refunds: number[] = [];
    const agent = new AbsurdAgent(
      {
        id: 'support',
        model,
        tools: {
          refund: tool({
            description: 'Refund an order',
            inputSchema: z.object({ amount: z.number() }),
            needsApproval: true,
            execute: async ({ amount }) => {
              refunds.push(amount);
              return { refunded: amount };
            },
          }),
        },
        ...settings,
      },
      absurd,
    );
    const results: any[] = [];
    absurd.registerTask({ name: 'support' }, async (params: { prompt: string }) => {
      const result = await agent.generate({ prompt: params.prompt });
      results.push(result);
      return { text: result.text, steps: result.steps.length };
    });
    await absurd.createQueue();
    return { absurd, prompts, refunds, results };
  }

  async function taskState(absurd: Absurd, taskID: string) {
    const { rows } = await database.query(
      `select t.state, r.claimed_by from absurd."t_${absurd.queue}" t join absurd."r_${absurd.queue}" r on r.run_id = t.last_attempt_run where t.task_id = $1`,
      [taskID],
    );
    return rows[0];
  }

  test('approved: the task suspends without a claim, then the tool runs exactly once and the run goes on', async () => {
    const { absurd, prompts, refunds, results } = await setup();
    try {
      const { taskID } = await absurd.spawn('support', { prompt: 'Refund order 7' });
      await absurd.workBatch();
      assert.deepEqual(await taskState(absurd, taskID), { state: 'sleeping', claimed_by: null });
      assert.equal(prompts.length, 1);
      const [pending] = await absurd.listPendingApprovals({ taskID });
      assert.equal(pending?.toolName, 'refund');
      assert.deepEqual(pending?.input, { amount: 42 });
      assert.equal(pending?.expiresAt, null);

      // Nothing to do until the decision: a worker pass claims nothing.
      await absurd.workBatch();
      assert.equal(prompts.length, 1);

      await absurd.approveToolCall({ taskID, toolCallId: 'call-refund', approved: true });
      await absurd.workBatch();
      const snapshot = await absurd.fetchTaskResult(taskID);
      assert.equal(snapshot?.state, 'completed');
      assert.deepEqual(refunds, [42]);
      // The replayed first model call was not asked again: one call before, one after the decision.
      assert.equal(prompts.length, 2);
      const result = results.at(-1);
      assert.match(result.text, /refunded.*42/);
      // One result for the whole run: both model steps, the decision, the usage of both calls.
      assert.equal(result.steps.length, 2);
      assert.equal(result.usage.inputTokens, 20);
      const parts = result.responseMessages.flatMap((message: any) => (Array.isArray(message.content) ? message.content : []));
      assert.ok(parts.some((part: any) => part.type === 'tool-approval-response' && part.approved === true));
      assert.ok(parts.some((part: any) => part.type === 'tool-result' && part.toolCallId === 'call-refund'));
      assert.deepEqual(await absurd.listPendingApprovals({ taskID }), []);
    } finally {
      await absurd.close();
    }
  });

  test('denied: the model sees the denial and its reason, and the tool never runs', async () => {
    const { absurd, prompts, refunds } = await setup();
    try {
      const { taskID } = await absurd.spawn('support', { prompt: 'Refund order 8' });
      await absurd.workBatch();
      await absurd.approveToolCall({ taskID, toolCallId: 'call-refund', approved: false, reason: 'over the limit' });
      await absurd.workBatch();
      assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
      assert.deepEqual(refunds, []);
      assert.match(JSON.stringify(prompts.at(-1)), /execution-denied.*over the limit/);
    } finally {
      await absurd.close();
    }
  });

  test('a per-tool timeout counts as a denial with reason "timed out", recorded like any decision', async () => {
    const { absurd, prompts, refunds } = await setup({ approvalTimeout: { default: 3600, tools: { refund: 0 } } });
    try {
      const { taskID } = await absurd.spawn('support', { prompt: 'Refund order 9' });
      await absurd.workBatch();
      const [pending] = await absurd.listPendingApprovals({ taskID });
      assert.equal(pending?.expiresAt?.getTime(), pending?.requestedAt.getTime());
      await absurd.workBatch();
      assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
      assert.deepEqual(refunds, []);
      assert.match(JSON.stringify(prompts.at(-1)), /execution-denied.*timed out/);
      await assert.rejects(absurd.approveToolCall({ taskID, toolCallId: 'call-refund', approved: true }), /already denied \(timed out\)/);
    } finally {
      await absurd.close();
    }
  });

  test("approvals: 'return' ends the run with the request, as a plain ToolLoopAgent does", async () => {
    const { absurd, refunds, results } = await setup({ approvals: 'return' });
    try {
      const { taskID } = await absurd.spawn('support', { prompt: 'Refund order 10' });
      await absurd.workBatch();
      assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
      assert.deepEqual(refunds, []);
      assert.ok(results[0].content.some((part: any) => part.type === 'tool-approval-request'));
    } finally {
      await absurd.close();
    }
  });

  test('invalid approval settings fail at construction with the fix', () => {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: 'unused' });
    const model = refundModel().model;
    assert.throws(() => new AbsurdAgent({ id: 'a', model, approvalTimeout: -1 }, absurd), ConfigurationError);
    assert.throws(
      () => new AbsurdAgent({ id: 'a', model, approvalTimeout: { tools: { refund: Number.NaN } } }, absurd),
      /approvalTimeout\.tools\.refund must be a number of seconds/,
    );
    assert.throws(() => new AbsurdAgent({ id: 'a', model, approvals: 'later' as never }, absurd), /'suspend' or 'return'/);
  });
});
