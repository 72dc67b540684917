// The `approvals`, `approve` and `deny` commands (as child processes) for a task whose two runs wait on
// tool calls with the same id: the listing shows each request id, a decision by the shared tool call id
// is refused with those ids, and decisions by request id resume the task once both are made.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { createChildDatabase } from '../docs/support/child-database.ts';
import { describeRun, runNode } from '../docs/support/run-node.ts';
import { refundTool, scriptedModel, toolResultCount } from './approval-models.ts';

const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const queue = 'refunds';

describe('approval commands', () => {
  test('a shared tool call id is refused with the request ids; deciding by request id resumes the task', async () => {
    const database = await createChildDatabase();
    const refunds: number[] = [];
    const { model } = scriptedModel((prompt) =>
      toolResultCount(prompt) === 0 ? [{ toolCallId: 'call_0', toolName: 'refund', input: '{"amount":5}' }] : [],
    );
    /** A client whose `refunds` task runs the same agent twice at once; closed after `use`. */
    async function withClient<T>(use: (absurd: Absurd) => Promise<T>): Promise<T> {
      const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
      const agent = new AbsurdAgent({ id: 'support', model, tools: { refund: refundTool(refunds) } }, absurd);
      absurd.registerTask({ name: 'refunds' }, async () =>
        (await Promise.all([agent.generate({ prompt: 'Refund A' }), agent.generate({ prompt: 'Refund B' })])).map((result) => result.text),
      );
      try {
        return await use(absurd);
      } finally {
        await absurd.close();
      }
    }
    const cliRun = (args: string[]) => runNode(cli, [...args, '--db', database.url], { env: { ABSURD_DATABASE_URL: undefined }, timeoutMs: 120_000 });
    try {
      const taskID = await withClient(async (absurd) => {
        await absurd.createQueue();
        const { taskID } = await absurd.spawn('refunds', {});
        await absurd.workBatch();
        return taskID;
      });

      const listing = await cliRun(['approvals', '--json']);
      assert.equal(listing.code, 0, describeRun('approvals --json', listing));
      const pending = JSON.parse(listing.stdout) as { requestId: string; toolCallId: string }[];
      assert.deepEqual(pending.map((approval) => approval.toolCallId), ['call_0', 'call_0']);
      const [first, second] = pending.map((approval) => approval.requestId);
      const text = await cliRun(['approvals']);
      assert.match(text.stdout, new RegExp(`call_0  refund  request=${first}`));
      assert.match(text.stdout, new RegExp(`call_0  refund  request=${second}`));

      const ambiguous = await cliRun(['approve', taskID, 'call_0']);
      assert.equal(ambiguous.code, 1, describeRun('approve by a shared tool call id', ambiguous));
      assert.match(ambiguous.stderr, /2 tool calls call_0 of task .* are waiting for approval/);
      assert.ok(ambiguous.stderr.includes(first!) && ambiguous.stderr.includes(second!), ambiguous.stderr);

      const approved = await cliRun(['approve', taskID, first!]);
      assert.equal(approved.code, 0, describeRun('approve by request id', approved));
      const denied = await cliRun(['deny', taskID, second!, '--reason', 'one is enough']);
      assert.equal(denied.code, 0, describeRun('deny by request id', denied));
      assert.match(denied.stdout, /Denied tool call .* \(one is enough\)/);

      await withClient(async (absurd) => {
        await absurd.workBatch();
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
      });
      assert.deepEqual(refunds, [5]);
    } finally {
      await database.close();
    }
  });
});
