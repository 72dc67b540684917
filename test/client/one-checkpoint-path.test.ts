// Every checkpoint of a claimed run, the agent's model and tool calls included, follows one rule: a
// name the execution has not seen means "not written" only while its lease certainly holds. An
// execution that outlived its lease asks the database, so it replays what a newer attempt completed
// instead of calling the model or running a tool once more.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { beginCheckpoint } from '../../src/agent/checkpoint-store.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import { recordingDatabase } from '../support/recording-database.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const quietLog = { log() {}, info() {}, warn() {}, error() {}, debug() {} } as unknown as Console;
const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};

/** A model that asks for `record` once, then answers; it counts every call it gets. */
function scriptedModel(calls: string[]): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    doGenerate: async ({ prompt }) => {
      const sawToolResult = prompt.some((message) => message.role === 'tool');
      calls.push(sawToolResult ? 'answer' : 'ask-tool');
      return sawToolResult
        ? { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] }
        : {
            content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'record', input: JSON.stringify({ note: 'n' }) }],
            finishReason: { unified: 'tool-calls', raw: undefined },
            usage,
            warnings: [],
          };
    },
  });
}

/** Waits past a one-second lease, so the execution can no longer be sure it holds its run. */
const outliveLease = () => new Promise((resolve) => setTimeout(resolve, 1_300));

describe('one checkpoint path', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  test('an agent run that outlived its lease replays what the newer attempt did: no model call, no tool run again', async () => {
    const queueName = uniqueQueueName('stale');
    const stale = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName, log: quietLog });
    const newer = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName, log: quietLog });
    const modelCalls: string[] = [];
    const toolRuns: string[] = [];
    const model = scriptedModel(modelCalls);
    const record = tool({
      inputSchema: z.object({ note: z.string() }),
      execute: async ({ note }) => {
        toolRuns.push(note);
        return { stored: note };
      },
    });
    let staleText: string | undefined;
    const staleAgent = new AbsurdAgent({ id: 'writer', model, tools: { record } }, stale);
    const newerAgent = new AbsurdAgent({ id: 'writer', model, tools: { record } }, newer);
    newer.registerTask({ name: 'write' }, async () => (await newerAgent.generate({ prompt: 'write it' })).text);
    stale.registerTask({ name: 'write' }, async () => {
      await outliveLease();
      // Meanwhile another worker sweeps the expired run and completes the task as attempt 2.
      await newer.workBatch('newer', 60, 1);
      staleText = (await staleAgent.generate({ prompt: 'write it' })).text;
      return staleText;
    });
    try {
      await stale.createQueue();
      const { taskID } = await stale.spawn('write', {}, { maxAttempts: 2, retryStrategy: { kind: 'none' } });
      const [claimed] = await stale.claimTasks({ batchSize: 1, claimTimeout: 1, workerId: 'stale' });
      assert.ok(claimed);
      await stale.executeTask(claimed, 1, { fatalOnLeaseTimeout: false });
      assert.deepEqual(modelCalls, ['ask-tool', 'answer'], 'each model call was made once, by attempt 2');
      assert.deepEqual(toolRuns, ['n'], 'the tool ran once');
      assert.equal(staleText, 'done', 'the stale execution replayed attempt 2');
      assert.deepEqual(await stale.fetchTaskResult(taskID), { state: 'completed', result: 'done' });
    } finally {
      await stale.close();
      await newer.close();
    }
  });

  test('while the lease holds, an agent checkpoint never written costs no statement; once it may have expired, one', async () => {
    const recording = recordingDatabase(database.db);
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: recording.database, queueName: uniqueQueueName('rule'), log: quietLog });
    const seen: Array<{ done: boolean; lookups: number }> = [];
    absurd.registerTask({ name: 'look' }, async () => {
      const task = getCurrentTask()!;
      const look = async (name: string) => {
        const before = recording.count('get_task_checkpoint_state(');
        const handle = await beginCheckpoint(task, name);
        seen.push({ done: handle.done, lookups: recording.count('get_task_checkpoint_state(') - before });
      };
      await look('agent:1/model:1');
      await outliveLease();
      await look('agent:1/model:2');
      return null;
    });
    try {
      await absurd.createQueue();
      await absurd.spawn('look', {});
      const [claimed] = await absurd.claimTasks({ batchSize: 1, claimTimeout: 1, workerId: 'w' });
      assert.ok(claimed);
      await absurd.executeTask(claimed, 1, { fatalOnLeaseTimeout: false });
      assert.deepEqual(seen, [
        { done: false, lookups: 0 },
        { done: false, lookups: 1 },
      ]);
    } finally {
      await absurd.close();
      await recording.close();
    }
  });
});
