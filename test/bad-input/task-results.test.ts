// Bad-input catalogue: values a task handler returns that Postgres jsonb could not store. The attempt
// fails with the same InvalidPayloadError as params would, naming the task, instead of a driver error
// from complete_run; the task keeps its checkpoints and can be retried once the handler is fixed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const quietLog = { ...console, log() {}, info() {}, warn() {}, error() {}, debug() {} } as Console;

const badResults: ReadonlyArray<{ name: string; value: unknown; pattern: RegExp }> = [
  { name: 'a lone high surrogate', value: { text: 'cut \uD83D' }, pattern: /contains a lone UTF-16 surrogate .*toWellFormed/ },
  { name: 'a lone low surrogate', value: ['\uDE00 tail'], pattern: /contains a lone UTF-16 surrogate/ },
  { name: 'a NUL character', value: { text: 'before\u0000after' }, pattern: /contains a NUL character \(\\u0000\).*Remove it/ },
  { name: 'a BigInt', value: { count: 10n }, pattern: /not JSON-serializable/ },
];

describe('bad input: task handler results', () => {
  let database: TestDatabase;
  let absurd: Absurd;

  before(async () => {
    database = await createTestDatabase();
    absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('results'), log: quietLog });
    await absurd.createQueue();
  });
  after(async () => {
    await absurd?.close();
    await database?.close();
  });

  for (const { name, value, pattern } of badResults) {
    test(`a result with ${name} fails the attempt with InvalidPayloadError naming the task`, async () => {
      const taskName = `returns-${name.replaceAll(' ', '-')}`;
      absurd.registerTask({ name: taskName }, async (_params, ctx) => {
        await ctx.step('work', async () => 'done');
        return value;
      });
      const { taskID } = await absurd.spawn(taskName, {}, { maxAttempts: 1 });
      await absurd.workBatch('worker', 30, 1);
      const result = await absurd.fetchTaskResult(taskID);
      assert.equal(result?.state, 'failed');
      const failure = (result as unknown as { failure: { name: string; message: string } }).failure;
      assert.equal(failure.name, 'AiSdkAbsurdInvalidPayloadError');
      assert.match(failure.message, new RegExp(`^The result of task "${taskName}"`));
      assert.match(failure.message, pattern);
      const { rows } = await database.query(`select checkpoint_name from absurd."c_${absurd.queue}" where task_id = $1`, [taskID]);
      assert.deepEqual(rows, [{ checkpoint_name: 'work' }], 'the work done before the return is kept');
    });
  }

  test('ordinary results, undefined and large ones included, still complete', async () => {
    absurd.registerTask({ name: 'returns-plain' }, async (params: { kind: string }) =>
      params.kind === 'nothing' ? undefined : params.kind === 'large' ? 'x'.repeat(9 * 1024 * 1024) : { emoji: '😀', kind: params.kind },
    );
    for (const kind of ['object', 'nothing', 'large']) {
      const { taskID } = await absurd.spawn('returns-plain', { kind });
      await absurd.workBatch('worker', 30, 1);
      const result = await absurd.fetchTaskResult(taskID);
      assert.equal(result?.state, 'completed', kind);
    }
  });
});
