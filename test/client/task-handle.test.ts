// Typed task handles: registerTask returns one typed from its handler; absurd.task() gives a web process the
// same handle from shared types alone. The types are checked by `tsc`; the behaviour here.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { silentLog } from '../agent/agent-harness.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

let database: TestDatabase;
let absurd: Absurd;
before(async () => {
  database = await createTestDatabase();
  absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('typed'), log: silentLog });
  await absurd.createQueue();
});
after(async () => {
  await absurd.close();
  await database.close();
});

interface AnalyseParams {
  readonly prompt: string;
}
interface AnalyseResult {
  readonly output: string;
  readonly words: number;
}

test('registerTask returns a handle whose spawn and results are typed from the handler', async () => {
  const analyse = absurd.registerTask({ name: 'analyse' }, async (params: AnalyseParams): Promise<AnalyseResult> => ({
    output: params.prompt.toUpperCase(),
    words: params.prompt.split(' ').length,
  }));
  assert.equal(analyse.name, 'analyse');
  assert.equal(analyse.queue, absurd.queue);
  const { taskID } = await analyse.spawn({ prompt: 'analyse q3 revenue' });
  assert.deepEqual(await analyse.fetchResult(taskID), { state: 'pending' });
  await absurd.workBatch('typed', 60, 1);
  const done = await analyse.awaitResult(taskID, { timeout: 10 });
  assert.equal(done.state, 'completed');
  if (done.state === 'completed') {
    const words: number = done.result.words;
    assert.equal(words, 3);
    assert.equal(done.result.output, 'ANALYSE Q3 REVENUE');
  }
  // Never called: `tsc` refuses params that do not match the handler's.
  // @ts-expect-error the handler takes { prompt: string }
  const mistyped = () => analyse.spawn({ question: 1 });
  assert.equal(typeof mistyped, 'function');
});

test('absurd.task() gives a web process the same typed handle without the handler', async () => {
  const web = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: absurd.queue, log: silentLog });
  try {
    const analyse = web.task<AnalyseParams, AnalyseResult>({ name: 'analyse' });
    const { taskID } = await analyse.spawn({ prompt: 'one two' });
    await absurd.workBatch('typed', 60, 1);
    const done = await analyse.awaitResult(taskID, { timeout: 10 });
    assert.deepEqual(done, { state: 'completed', result: { output: 'ONE TWO', words: 2 } });
    assert.equal(await analyse.fetchResult('0190f5c2-7b1e-7c3a-9d4e-2f6a8b0c1d2e'), null);
    assert.throws(() => web.task({ name: '' }), ConfigurationError);
  } finally {
    await web.close();
  }
});
