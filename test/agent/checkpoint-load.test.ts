// A resumed run reads its checkpoints once: the agent layer reuses the load absurd-sdk makes when the
// run starts instead of asking the database again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MockLanguageModelV4 } from 'ai/test';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { recordingDatabase } from '../support/recording-database.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

test('each execution loads its checkpoints exactly once, and a resumed run replays from that load', async () => {
  const recording = recordingDatabase(database.db);
  const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: recording.database, queueName: uniqueQueueName('load'), log: { ...console, error() {} } });
  let modelCalls = 0;
  const model = new MockLanguageModelV4({
    doGenerate: async () => {
      modelCalls += 1;
      return {
        content: [{ type: 'text', text: 'answer' }],
        finishReason: { unified: 'stop', raw: undefined },
        usage: {
          inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 1, text: 1, reasoning: undefined },
        },
        warnings: [],
      };
    },
  });
  const agent = new AbsurdAgent({ id: 'once', model }, absurd);
  let attempt = 0;
  absurd.registerTask({ name: 'once' }, async () => {
    attempt += 1;
    const result = await agent.generate({ prompt: 'hi' });
    if (attempt === 1) throw new Error('crash after the model call');
    return result.text;
  });
  try {
    await absurd.createQueue();
    const { taskID } = await absurd.spawn('once', {}, { retryStrategy: { kind: 'none' } });
    await absurd.workBatch();
    await absurd.workBatch();
    assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: 'answer' });
    assert.equal(modelCalls, 1, 'the resumed run replayed the model call');
    // The client reads a claimed run's load through the queue's replay function.
    assert.equal(recording.count('_replay('), 2, 'one load per execution, made for absurd-sdk and reused by the agent');
    assert.equal(recording.count('get_task_checkpoint_state'), 0, 'no other checkpoint reads');
  } finally {
    await absurd.close();
    await recording.close();
  }
});
