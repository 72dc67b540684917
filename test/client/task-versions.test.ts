// The version a task is registered with is recorded with each run it spawns (through the client, the
// registered handle or a web process's handle), and a worker refuses at once a run of another version.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { taskVersion, taskVersionHeader } from '../../src/client/task-version.ts';
import { queueTable } from '../../src/db/queue-table.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const warnings: string[] = [];
const log = { log() {}, info() {}, error() {}, warn: (...parts: unknown[]) => warnings.push(parts.join(' ')) };
let database: TestDatabase;
let absurd: Absurd;
before(async () => {
  database = await createTestDatabase();
  absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('versions'), log });
  await absurd.createQueue();
});
after(async () => {
  await absurd.close();
  await database.close();
});

async function recordedVersion(taskID: string): Promise<unknown> {
  const { rows } = await database.query(`select headers from ${queueTable('t', absurd.queue)} where task_id = $1`, [taskID]);
  return rows[0]?.headers?.[taskVersionHeader];
}

test('each spawn of a versioned task records the version, whichever way it is spawned', async () => {
  const seen: (string | undefined)[] = [];
  const registered = absurd.registerTask({ name: 'report', version: 'v3' }, async (_params: { n: number }, ctx) => {
    seen.push(taskVersion(ctx));
    return { ok: true };
  });
  assert.equal(registered.version, 'v3');
  const byClient = await absurd.spawn('report', { n: 1 }, { headers: { trace: 'abc' } });
  const byHandle = await registered.spawn({ n: 2 });
  const byWebHandle = await absurd.task<{ n: number }, { ok: boolean }>({ name: 'report', version: 'v3' }).spawn({ n: 3 });
  for (const { taskID } of [byClient, byHandle, byWebHandle]) assert.equal(await recordedVersion(taskID), 'v3');
  const { rows } = await database.query(`select headers from ${queueTable('t', absurd.queue)} where task_id = $1`, [byClient.taskID]);
  assert.equal(rows[0].headers.trace, 'abc');
  await absurd.workBatch('versions', 60, 3);
  assert.deepEqual(seen, ['v3', 'v3', 'v3']);
});

test('a run recorded by another version fails at once with one log line; an accepted or unversioned one runs', async () => {
  absurd.registerTask({ name: 'summarise', version: 'v2', acceptVersions: ['v1'], defaultMaxAttempts: 5 }, async () => ({ done: true }));
  const other = await absurd.spawn('summarise', {}, { version: 'v0' });
  const accepted = await absurd.spawn('summarise', {}, { version: 'v1' });
  const unversioned = await absurd.spawn('summarise', {});
  assert.equal(await recordedVersion(other.taskID), 'v0');
  await database.query(`update ${queueTable('t', absurd.queue)} set headers = '{}'::jsonb where task_id = $1`, [unversioned.taskID]);
  warnings.length = 0;
  await absurd.workBatch('versions', 60, 3);

  const refused = await absurd.fetchTaskResult(other.taskID);
  assert.equal(refused?.state, 'failed');
  assert.match(JSON.stringify(refused), /spawned by version \\"v0\\", but this worker runs version \\"v2\\"/);
  const { rows } = await database.query(`select attempts from ${queueTable('t', absurd.queue)} where task_id = $1`, [other.taskID]);
  assert.equal(rows[0].attempts, 1, 'no retry of a run no worker of this version may continue');
  assert.equal(warnings.filter((line) => line.includes(other.taskID)).length, 1, warnings.join('\n'));
  assert.equal((await absurd.fetchTaskResult(accepted.taskID))?.state, 'completed');
  assert.equal((await absurd.fetchTaskResult(unversioned.taskID))?.state, 'completed');
});
