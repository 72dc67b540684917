// The client that claimed a run reads its checkpoints through the queue's replay function and
// answers absurd-sdk's per-step lookups from that load while the run's lease certainly holds; past
// the lease, lookups go to the database and see what a later attempt wrote.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { replayFunctionName } from '../../src/client/claimed-run-queries.ts';
import { recordingDatabase } from '../support/recording-database.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const quietLog = { log() {}, info() {}, warn() {}, error() {}, debug() {} } as unknown as Console;

describe('queries of a claimed run', () => {
  let testDatabase: TestDatabase;
  before(async () => {
    testDatabase = await createTestDatabase();
  });
  after(async () => {
    await testDatabase.close();
  });

  test('a new step costs one statement: its lookup is answered from the load while the lease holds', async () => {
    const recording = recordingDatabase(testDatabase.db);
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: recording.database, queueName: uniqueQueueName('steps'), log: quietLog });
    let executions = 0;
    const ran: string[] = [];
    absurd.registerTask({ name: 'three-steps' }, async (_params, ctx) => {
      executions += 1;
      let total = 0;
      for (const name of ['a', 'b', 'c']) {
        total += await ctx.step(name, async () => {
          ran.push(`${name}@${executions}`);
          return name.charCodeAt(0);
        });
      }
      if (executions === 1) throw new Error('crash after the last step');
      return total;
    });
    try {
      await absurd.createQueue();
      const { taskID } = await absurd.spawn('three-steps', null, { maxAttempts: 2, retryStrategy: { kind: 'none' } });
      recording.statements.length = 0;
      await absurd.workBatch('worker', 60, 1);
      assert.equal(recording.count('get_task_checkpoint_state('), 0, 'no lookup reached the database');
      assert.equal(recording.count('set_task_checkpoint_state('), 3);
      assert.equal(recording.count('_replay('), 1, 'one load through the replay function');
      await absurd.workBatch('worker', 60, 1);
      assert.deepEqual(ran, ['a@1', 'b@1', 'c@1'], 'the retry replayed every step from its load');
      assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: 97 + 98 + 99 });
    } finally {
      await absurd.close();
      await recording.close();
    }
  });

  test('the replay load sees what the public function returns: older attempts yes, newer attempts no', async () => {
    const queueName = uniqueQueueName('visibility');
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: testDatabase.db, queueName, log: quietLog });
    const seen: Array<Record<string, unknown>> = [];
    absurd.registerTask({ name: 'attempts' }, async (_params, ctx) => {
      const first = await ctx.step('first', async () => ({ attempt: 'first' }));
      const second = await ctx.step('second', async () => null);
      seen.push({ first, second });
      if (seen.length === 1) throw new Error('fail the first attempt');
      await ctx.step('third', async () => 'only attempt 2 wrote this');
      return seen.length;
    });
    try {
      await absurd.createQueue();
      const { taskID } = await absurd.spawn('attempts', null, { maxAttempts: 2, retryStrategy: { kind: 'none' } });
      await absurd.workBatch('worker', 60, 1);
      await absurd.workBatch('worker', 60, 1);
      assert.deepEqual(seen, [
        { first: { attempt: 'first' }, second: null },
        { first: { attempt: 'first' }, second: null },
      ]);
      const { rows: runs } = await absurd.database.query<{ run_id: string }>(
        `select run_id from absurd.r_${queueName} where task_id = $1 order by attempt`,
        [taskID],
      );
      for (const { run_id: runID } of runs) {
        const general = await absurd.database.query(
          'select checkpoint_name, state from absurd.get_task_checkpoint_states($1, $2, $3)',
          [queueName, taskID, runID],
        );
        const replay = await absurd.database.query(
          `select checkpoint_name, state from absurd.${(await replayFunction(absurd, queueName))}($1, $2)`,
          [taskID, runID],
        );
        assert.deepEqual(replay.rows, general.rows);
      }
      const [firstRun, secondRun] = runs.map((run) => run.run_id);
      const names = async (runID: string | undefined) =>
        (await absurd.database.query(`select checkpoint_name from absurd.${replayFunctionName(queueName)}($1, $2)`, [taskID, runID])).rows.map(
          (row) => row.checkpoint_name,
        );
      assert.deepEqual(await names(firstRun), ['first', 'second'], 'attempt 1 does not see attempt 2');
      assert.deepEqual(await names(secondRun), ['first', 'second', 'third']);
    } finally {
      await absurd.close();
    }
  });

  test('once the lease may have expired, a lookup asks the database and finds what a later attempt wrote', async () => {
    const queueName = uniqueQueueName('expired');
    const recording = recordingDatabase(testDatabase.db);
    const stale = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: recording.database, queueName, log: quietLog });
    const other = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: testDatabase.db, queueName, log: quietLog });
    const ran: string[] = [];
    stale.registerTask({ name: 'slow' }, async (_params, ctx) => {
      await ctx.step('before', async () => 'stale');
      // Outlive the one-second lease; another worker then claims the task again.
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      const [retry] = await other.claimTasks({ batchSize: 1, claimTimeout: 60, workerId: 'other' });
      assert.ok(retry, 'the expired run was retried');
      assert.equal(retry.attempt, 2);
      await other.database.query('select absurd.set_task_checkpoint_state($1, $2, $3, $4, $5, $6)', [
        queueName,
        retry.task_id,
        'after',
        JSON.stringify('written by attempt 2'),
        retry.run_id,
        60,
      ]);
      recording.statements.length = 0;
      return ctx.step('after', async () => {
        ran.push('after');
        return 'stale';
      });
    });
    try {
      await stale.createQueue();
      await stale.spawn('slow', null, { maxAttempts: 2, retryStrategy: { kind: 'none' } });
      await stale.workBatch('stale-worker', 1, 1);
      assert.deepEqual(ran, [], 'the step a later attempt completed was not run again');
      assert.equal(recording.count('get_task_checkpoint_state('), 1, 'the lookup went to the database');
    } finally {
      await stale.close();
      await other.close();
      await recording.close();
    }
  });
});

async function replayFunction(absurd: Absurd, queueName: string): Promise<string> {
  const { rows } = await absurd.database.query<{ name: string }>(`select absurd.queue_function_name($1, 'replay') as name`, [queueName]);
  assert.equal(replayFunctionName(queueName), rows[0]!.name, 'the client names the function as the schema does');
  return rows[0]!.name;
}
