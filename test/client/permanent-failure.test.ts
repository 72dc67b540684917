// Retries that fit the error: a failure no retry can fix (a closed list of errors, or one task code marks)
// fails the task on the attempt it happened, with one log line; any other failure uses the attempts left.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { APICallError } from '@ai-sdk/provider';
import { Absurd } from '../../src/client/absurd.ts';
import { markPermanent, permanentFailureReason } from '../../src/client/permanent-failure.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { ReplayDivergenceError } from '../../src/errors/replay-divergence-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const warnings: string[] = [];
const log = { log() {}, info() {}, debug() {}, error() {}, warn: (...parts: unknown[]) => warnings.push(parts.join(' ')) } as unknown as Console;
let database: TestDatabase;
let absurd: Absurd;
before(async () => {
  database = await createTestDatabase();
  absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('permanent'), log });
  await absurd.createQueue();
});
after(async () => {
  await absurd.close();
  await database.close();
});

async function attemptsOf(taskID: string): Promise<{ state: string; attempts: number }> {
  const { rows } = await database.query(`select state, attempts from absurd."t_${absurd.queue}" where task_id = $1`, [taskID]);
  return rows[0];
}

const failures: Record<string, () => Error> = {
  marked: () => markPermanent(new Error('no customer 42')),
  configuration: () => new ConfigurationError({ setting: 'model', message: 'no model configured' }),
  divergence: () => new ReplayDivergenceError({ taskID: 'x', stepName: 'a:1/model:1', expected: 'e', recorded: 'r', detail: 'the prompt changed' }),
  unauthorised: () => new APICallError({ message: 'Incorrect API key', url: 'http://model/v1', requestBodyValues: {}, statusCode: 401, isRetryable: false }),
};

for (const [kind, makeError] of Object.entries(failures)) {
  test(`${kind}: the task fails on its first attempt although attempts remain, with one log line`, async () => {
    const name = `permanent-${kind}`;
    absurd.registerTask({ name, defaultMaxAttempts: 5 }, async () => {
      throw makeError();
    });
    warnings.length = 0;
    const { taskID } = await absurd.spawn(name, {});
    await absurd.workBatch('permanent', 60, 1);
    assert.deepEqual(await attemptsOf(taskID), { state: 'failed', attempts: 1 });
    const lines = warnings.filter((line) => line.includes(taskID));
    assert.equal(lines.length, 1, warnings.join('\n'));
    assert.match(lines[0]!, /failed on attempt 1 without a retry/);
  });
}

test('a failure a retry may fix uses the attempts left', async () => {
  let calls = 0;
  absurd.registerTask({ name: 'flaky', defaultMaxAttempts: 3 }, async () => {
    calls++;
    if (calls < 3) throw new Error('connection reset');
    return { ok: true };
  });
  const retryable = new APICallError({ message: 'busy', url: 'http://model/v1', requestBodyValues: {}, statusCode: 503, isRetryable: true });
  assert.equal(permanentFailureReason(retryable), undefined);
  assert.equal(permanentFailureReason(new Error('timeout')), undefined);
  const { taskID } = await absurd.spawn('flaky', {});
  for (let round = 0; round < 20 && (await attemptsOf(taskID)).state !== 'completed'; round++) {
    await absurd.workBatch('permanent', 60, 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(await attemptsOf(taskID), { state: 'completed', attempts: 3 });
});
