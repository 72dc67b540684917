// Every tool call that needs approval gets its own request and its own decision: when a model reuses a
// tool call id, when one task runs an agent twice or two agents at once, when one step asks for several
// calls, and whatever the call's input contains. Only a decision through approveToolCall (or the CLI)
// lets a tool run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { ApprovalError } from '../../src/errors/approval-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { noteTool, refundTool, scriptedModel, toolResultCount, type Prompt, type ScriptedCall } from './approval-models.ts';

/** What the tests call on an agent. */
interface PromptedAgent {
  generate(options: { prompt: string }): PromiseLike<{ text: string }>;
}

const refundCall = (toolCallId: string, amount: number) => ({ toolCallId, toolName: 'refund', input: JSON.stringify({ amount }) });

describe('approval requests', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  /** A client on a fresh queue whose `support` task runs `handler`; closed after `use`. */
  async function withQueue(
    register: (absurd: Absurd) => void,
    use: (absurd: Absurd) => Promise<void>,
  ): Promise<void> {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('requests') });
    try {
      register(absurd);
      await absurd.createQueue();
      await use(absurd);
    } finally {
      await absurd.close();
    }
  }

  /** A `support` task whose agent has the `refund` tool, answering by `script`; `run` is what the handler does with it. */
  async function withRefundAgent(
    script: (prompt: Prompt) => readonly ScriptedCall[],
    run: (agent: PromptedAgent) => Promise<unknown>,
    use: (absurd: Absurd, refunds: number[], prompts: Prompt[]) => Promise<void>,
  ): Promise<void> {
    const refunds: number[] = [];
    const { model, prompts } = scriptedModel(script);
    await withQueue(
      (absurd) => {
        const agent = new AbsurdAgent({ id: 'support', model, tools: { refund: refundTool(refunds) } }, absurd);
        absurd.registerTask({ name: 'support' }, () => run(agent));
      },
      (absurd) => use(absurd, refunds, prompts),
    );
  }

  const generateText = (prompt: string) => async (agent: PromptedAgent) => (await agent.generate({ prompt })).text;

  async function taskState(absurd: Absurd, taskID: string): Promise<string> {
    const { rows } = await database.query(`select state from absurd."t_${absurd.queue}" where task_id = $1`, [taskID]);
    return rows[0].state;
  }

  async function runStates(absurd: Absurd, taskID: string): Promise<string[]> {
    const { rows } = await database.query(`select state from absurd."r_${absurd.queue}" where task_id = $1 order by attempt`, [taskID]);
    return rows.map((row) => row.state);
  }

  test('the same agent run twice in one task asks for approval twice', async () => {
    await withRefundAgent(
      (prompt) => (toolResultCount(prompt) === 0 ? [refundCall('call-refund', 42)] : []),
      async (agent) => [await generateText('Refund order 1')(agent), await generateText('Refund order 2')(agent)],
      async (absurd, refunds) => {
        const { taskID } = await absurd.spawn('support', {});
        await absurd.workBatch();
        const [first] = await absurd.listPendingApprovals({ taskID });
        assert.equal(first?.toolCallId, 'call-refund');
        await absurd.approveToolCall({ taskID, toolCallId: 'call-refund', approved: true });
        await absurd.workBatch();
        assert.deepEqual(refunds, [42], 'the second run must not run the tool on the first approval');
        assert.equal(await taskState(absurd, taskID), 'sleeping');
        const [second] = await absurd.listPendingApprovals({ taskID });
        assert.equal(second?.toolCallId, 'call-refund');
        assert.notEqual(second?.requestId, first?.requestId);
        await absurd.approveToolCall({ taskID, toolCallId: 'call-refund', approved: true });
        await absurd.workBatch();
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
        assert.deepEqual(refunds, [42, 42]);
      },
    );
  });

  for (const secondAmount of [42, 7]) {
    test(`a second model response reusing call_0 (${secondAmount === 42 ? 'same' : 'other'} input) gets its own request`, async () => {
      const script = (prompt: Prompt) => {
        const results = toolResultCount(prompt);
        return results === 0 ? [refundCall('call_0', 42)] : results === 1 ? [refundCall('call_0', secondAmount)] : [];
      };
      await withRefundAgent(
        script,
        generateText('Refund twice'),
        async (absurd, refunds, prompts) => {
          const { taskID } = await absurd.spawn('support', {});
          await absurd.workBatch();
          await absurd.approveToolCall({ taskID, toolCallId: 'call_0', approved: true });
          await absurd.workBatch();
          assert.deepEqual(refunds, [42], 'the reused id must not run on the first approval');
          assert.deepEqual(await runStates(absurd, taskID), ['sleeping']);
          const pending = await absurd.listPendingApprovals({ taskID });
          assert.deepEqual(pending.map((approval) => [approval.toolCallId, approval.input]), [['call_0', { amount: secondAmount }]]);
          await absurd.approveToolCall({ taskID, toolCallId: 'call_0', approved: false, reason: 'once is enough' });
          await absurd.workBatch();
          assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
          assert.deepEqual(refunds, [42]);
          assert.match(JSON.stringify(prompts.at(-1)), /execution-denied.*once is enough/);
        },
      );
    });
  }

  test('parallel calls of one step are listed together and the task resumes once, after every decision', async () => {
    await withRefundAgent(
      (prompt) => (toolResultCount(prompt) === 0 ? [refundCall('call-a', 1), refundCall('call-b', 2), refundCall('call-c', 3)] : []),
      generateText('Refund all three'),
      async (absurd, refunds, prompts) => {
        const { taskID } = await absurd.spawn('support', {});
        await absurd.workBatch();
        const pending = await absurd.listPendingApprovals({ taskID });
        assert.deepEqual(pending.map((approval) => approval.toolCallId).sort(), ['call-a', 'call-b', 'call-c']);
        await absurd.approveToolCall({ taskID, toolCallId: 'call-b', approved: true });
        await absurd.approveToolCall({ taskID, toolCallId: 'call-a', approved: false, reason: 'no' });
        await absurd.workBatch();
        assert.equal(await taskState(absurd, taskID), 'sleeping', 'the task waits until every call is decided');
        assert.equal(prompts.length, 1);
        assert.deepEqual(refunds, []);
        assert.deepEqual((await absurd.listPendingApprovals({ taskID })).map((approval) => approval.toolCallId), ['call-c']);
        await absurd.approveToolCall({ taskID, toolCallId: 'call-c', approved: true });
        await absurd.workBatch();
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
        assert.deepEqual(refunds.sort(), [2, 3]);
        assert.equal(prompts.length, 2);
      },
    );
  });

  test('a nested agent waiting for approval suspends the task while its parent waits on it', async () => {
    const refunds: number[] = [];
    const support = scriptedModel((prompt) => (toolResultCount(prompt) === 0 ? [refundCall('call-refund', 9)] : []));
    const manager = scriptedModel((prompt) =>
      toolResultCount(prompt) === 0 ? [{ toolCallId: 'call-delegate', toolName: 'delegate', input: '{"task":"refund"}' }] : [],
    );
    await withQueue(
      (absurd) => {
        const helper = new AbsurdAgent({ id: 'support', model: support.model, tools: { refund: refundTool(refunds) } }, absurd);
        const delegate = tool({
          inputSchema: z.object({ task: z.string() }),
          execute: async ({ task }) => (await helper.generate({ prompt: task })).text,
        });
        const agent = new AbsurdAgent({ id: 'manager', model: manager.model, tools: { delegate } }, absurd);
        absurd.registerTask({ name: 'support' }, async () => (await agent.generate({ prompt: 'Delegate a refund' })).text);
      },
      async (absurd) => {
        const { taskID } = await absurd.spawn('support', {});
        await absurd.workBatch();
        assert.equal(await taskState(absurd, taskID), 'sleeping');
        const [pending] = await absurd.listPendingApprovals({ taskID });
        assert.equal(pending?.toolName, 'refund');
        await absurd.approveToolCall({ taskID, requestId: pending!.requestId, approved: true });
        await absurd.workBatch();
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
        assert.deepEqual(refunds, [9]);
      },
    );
  });

  test('an input with a NUL and a lone surrogate is stored losslessly and shown as the model wrote it', async () => {
    const notes: string[] = [];
    const text = 'nul:\u0000 lone:\ud800 end';
    const { model } = scriptedModel((prompt) =>
      toolResultCount(prompt) === 0 ? [{ toolCallId: 'call-note', toolName: 'note', input: JSON.stringify({ text }) }] : [],
    );
    await withQueue(
      (absurd) => {
        const agent = new AbsurdAgent({ id: 'notes', model, tools: { note: noteTool(notes) } }, absurd);
        absurd.registerTask({ name: 'support' }, async () => (await agent.generate({ prompt: 'Save it' })).text);
      },
      async (absurd) => {
        const { taskID } = await absurd.spawn('support', {});
        await absurd.workBatch();
        const [pending] = await absurd.listPendingApprovals({ taskID });
        assert.deepEqual(pending?.input, { text });
        await absurd.approveToolCall({ taskID, toolCallId: 'call-note', approved: true, input: pending!.input });
        await absurd.workBatch();
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
        assert.deepEqual(notes, [text]);
      },
    );
  });

  test('emitEvent on an approval event name is not a decision: the tool does not run', async () => {
    await withRefundAgent(
      (prompt) => (toolResultCount(prompt) === 0 ? [refundCall('call-refund', 42)] : []),
      generateText('Refund'),
      async (absurd, refunds) => {
        const { taskID } = await absurd.spawn('support', {});
        await absurd.workBatch();
        const { rows } = await database.query('select event_name, input_digest from ai_sdk_absurd.tool_approvals where task_id = $1', [taskID]);
        const forged = { approved: true, reason: null, inputDigest: rows[0].input_digest, decidedBy: 'person', decidedAt: new Date().toISOString() };
        const names = new Set([`ai-sdk-absurd:approval:${taskID}:call-refund`, ...rows.map((row) => row.event_name).filter(Boolean)]);
        for (const name of names) await absurd.emitEvent(name, forged);
        await absurd.workBatch();
        assert.deepEqual(refunds, []);
        assert.notEqual(await taskState(absurd, taskID), 'completed');
        const [pending] = await absurd.listPendingApprovals({ taskID });
        assert.equal(pending?.toolCallId, 'call-refund', 'the request is still waiting for a decision');
        await absurd.approveToolCall({ taskID, toolCallId: 'call-refund', approved: true });
        await absurd.workBatch();
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
        assert.deepEqual(refunds, [42]);
      },
    );
  });

  test('an ambiguous tool call id is refused with the request ids, which are accepted instead', async () => {
    await withRefundAgent(
      (prompt) => (toolResultCount(prompt) === 0 ? [refundCall('call-refund', 5)] : []),
      (agent) => Promise.all([generateText('Refund A')(agent), generateText('Refund B')(agent)]),
      async (absurd, refunds) => {
        const { taskID } = await absurd.spawn('support', {});
        await absurd.workBatch();
        const pending = await absurd.listPendingApprovals({ taskID });
        assert.deepEqual(pending.map((approval) => approval.toolCallId), ['call-refund', 'call-refund']);
        const requestIds = pending.map((approval) => approval.requestId);
        assert.equal(new Set(requestIds).size, 2);
        await assert.rejects(absurd.approveToolCall({ taskID, toolCallId: 'call-refund', approved: true }), (error: unknown) => {
          assert.ok(error instanceof ApprovalError);
          assert.match(error.message, /2 tool calls call-refund of task .* are waiting/);
          for (const requestId of requestIds) assert.ok(error.message.includes(requestId), `the message names ${requestId}`);
          return true;
        });
        assert.equal((await absurd.listPendingApprovals({ taskID })).length, 2, 'nothing was decided');
        await absurd.approveToolCall({ taskID, requestId: requestIds[0]!, approved: true });
        // The request id is also accepted where the tool call id goes (as the CLI passes it).
        await absurd.approveToolCall({ taskID, toolCallId: requestIds[1]!, approved: true });
        await assert.rejects(absurd.approveToolCall({ taskID, requestId: requestIds[1]!, approved: true }), /already approved/);
        await absurd.workBatch();
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
        assert.deepEqual(refunds, [5, 5]);
      },
    );
  });
});
