// Only the run that owns a task writes its durable stream: an append by a run that has failed (its lease
// expired and another attempt took over) or whose task was cancelled is refused, and nothing is stored.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { StreamWriter } from '../../src/streams/stream-writer.ts';
import { silentLog } from '../agent/agent-harness.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

let database: TestDatabase;
let absurd: Absurd;
before(async () => {
  database = await createTestDatabase();
  absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('owned'), log: silentLog });
  await absurd.createQueue();
});
after(async () => {
  await absurd.close();
  await database.close();
});

async function storedChunks(taskID: string): Promise<number> {
  const { rows } = await database.query('select count(*)::int as n from ai_sdk_absurd.stream_chunks where task_id = $1', [taskID]);
  return rows[0].n;
}

function writerOf(taskID: string, runID: string): StreamWriter {
  const writer = new StreamWriter(absurd.database, absurd.queue, taskID, runID);
  writer.write({ type: 'text-delta', id: 't', delta: 'hello' });
  return writer;
}

test('the running run appends; after its run failed and a new attempt took over, its appends are refused (AB002)', async () => {
  const { taskID } = await absurd.spawn('owned', {}, { queue: absurd.queue, maxAttempts: 2 });
  const [first] = await absurd.claimTasks({ batchSize: 1, claimTimeout: 60, workerId: 'w1' });
  assert.equal(first?.task_id, taskID);
  await writerOf(taskID, first!.run_id).flush();
  assert.equal(await storedChunks(taskID), 1);

  await absurd.database.query(`select absurd.fail_run($1, $2::uuid, $3::jsonb, null)`, [absurd.queue, first!.run_id, '{"message":"lease lost"}']);
  await assert.rejects(writerOf(taskID, first!.run_id).flush(), (error: { code?: string; message: string }) => {
    assert.equal(error.code, 'AB002');
    assert.match(error.message, /not running \(its claim may have expired\); its stream chunks were not written/);
    return true;
  });
  assert.equal(await storedChunks(taskID), 1, 'nothing of the stale run was stored');

  const [second] = await absurd.claimTasks({ batchSize: 1, claimTimeout: 60, workerId: 'w2' });
  assert.equal(second?.attempt, 2);
  await writerOf(taskID, second!.run_id).flush();
  assert.equal(await storedChunks(taskID), 2, 'the attempt that took over writes');
});

test('a run whose task was cancelled cannot append (AB001)', async () => {
  const { taskID } = await absurd.spawn('owned', {}, { queue: absurd.queue });
  const [claimed] = await absurd.claimTasks({ batchSize: 1, claimTimeout: 60, workerId: 'w1' });
  await absurd.cancelTask(taskID);
  await assert.rejects(writerOf(taskID, claimed!.run_id).flush(), (error: { code?: string }) => error.code === 'AB001');
  assert.equal(await storedChunks(taskID), 0);
});
