// `ai-sdk-absurd usage` and the approvals commands on a budget, as separate processes on a shared database:
// the usage table and JSON carry the reasoning and cached tokens, and a budget raise request is listed by
// `approvals` and granted by `approve` like a tool call.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { MockLanguageModelV4 } from 'ai/test';
import { tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { generateResult, silentLog, turnIndex } from '../agent/agent-harness.ts';
import { crashBackends, createSharedDatabase, type CrashBackend } from '../support/crash-databases.ts';
import { uniqueQueueName } from '../support/test-database.ts';

const run = promisify(execFile);
const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const { backends, postgresSkipReason } = await crashBackends();
const usage = { inputTokens: { total: 100, noCache: 70, cacheRead: 30, cacheWrite: 0 }, outputTokens: { total: 20, text: 8, reasoning: 12 } };

for (const backend of ['pglite', 'postgres'] as CrashBackend[]) {
  describe(`usage and budget raises from the command line on ${backend}`, { skip: !backends.includes(backend) && postgresSkipReason }, () => {
    test('usage prints every token kind; approve grants a budget raise', async () => {
      const database = await createSharedDatabase(backend);
      const queue = uniqueQueueName('budgetcli');
      let paid = 0;
      const model = new MockLanguageModelV4({
        provider: 'acme.chat',
        modelId: 'acme-think',
        doGenerate: async (options) => {
          paid++;
          return { ...generateResult({ toolCalls: [{ toolCallId: `call-${turnIndex(options)}`, toolName: 'work', input: { n: 1 } }] }), usage };
        },
      });
      const work = tool({ inputSchema: z.object({ n: z.number() }), execute: async () => 'ok' });
      const withWorker = async (use: (absurd: Absurd) => Promise<void>) => {
        const absurd = new Absurd({ db: database.url, queueName: queue, log: silentLog });
        const agent = new AbsurdAgent({ id: 'thinker', model, tools: { work }, budget: { tokens: 240, onExceeded: 'suspend' } }, absurd);
        absurd.registerTask({ name: 'think' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
        try {
          await use(absurd);
        } finally {
          await absurd.close();
        }
      };
      try {
        let taskID = '';
        await withWorker(async (absurd) => {
          await absurd.createQueue();
          taskID = (await absurd.spawn('think', {})).taskID;
          await absurd.workBatch('cli-test', 60, 1);
          assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'sleeping');
        });
        assert.equal(paid, 2, 'two calls of 120 tokens reach the budget of 240');

        const json = await run(process.execPath, [cli, 'usage', '--task', taskID, '--db', database.url, '--json']);
        const report = JSON.parse(json.stdout) as { totals: Record<string, number>; byModel: Array<{ provider: string; modelId: string }> };
        assert.deepEqual(
          [report.totals.modelCalls, report.totals.inputTokens, report.totals.cachedInputTokens, report.totals.outputTokens, report.totals.reasoningTokens],
          [2, 200, 60, 40, 24],
        );
        assert.deepEqual(report.byModel.map((row) => [row.provider, row.modelId]), [['acme.chat', 'acme-think']]);
        const table = await run(process.execPath, [cli, 'usage', '--task', taskID, '--db', database.url]);
        assert.match(table.stdout, /model calls\s+input tokens\s+cached\s+output tokens\s+reasoning/);
        assert.match(table.stdout, /agent thinker\s+2\s+200\s+60\s+40\s+24\s/);

        const listed = await run(process.execPath, [cli, 'approvals', '--db', database.url]);
        assert.match(listed.stdout, new RegExp(`${taskID}\\s+budget:thinker:1\\s+raise-budget`));
        assert.match(listed.stdout, /"spent":\{"tokens":240,"modelCalls":2\}/);
        const approved = await run(process.execPath, [cli, 'approve', taskID, 'budget:thinker:1', '--db', database.url]);
        assert.match(approved.stdout, /Approved/);

        // The raise adds the budget again (240 tokens): two more calls, then the next request.
        await withWorker(async (absurd) => {
          await absurd.workBatch('cli-test', 60, 1);
          assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'sleeping');
          assert.deepEqual((await absurd.listPendingApprovals({ taskID })).map((pending) => pending.toolCallId), ['budget:thinker:2']);
        });
        assert.equal(paid, 4);
      } finally {
        await database.remove();
      }
    });
  });
}
