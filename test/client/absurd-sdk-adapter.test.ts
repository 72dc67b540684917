// Contract of src/client/absurd-sdk-adapter.ts with the installed absurd-sdk: the version is the one
// the adapter was verified against, package.json allows no other, and the real, unmodified client
// sends each statement the adapter recognises with the parameters where the adapter reads them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Absurd as SdkAbsurd, type ClaimedTask } from 'absurd-sdk';
import type pg from 'pg';
import {
  awaitedCheckpoint,
  checkpointHandle,
  classifySdkStatement,
  verifiedAbsurdSdkVersion,
  type SdkStatement,
} from '../../src/client/absurd-sdk-adapter.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const quietLog = { log() {}, info() {}, warn() {}, error() {}, debug() {} } as unknown as Console;
const readJson = (url: URL) => JSON.parse(readFileSync(url, 'utf8'));

describe('absurd-sdk adapter contract', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.close();
  });

  test('the installed absurd-sdk is the version the adapter was verified against, and the only one allowed', () => {
    const installed = readJson(new URL('../../node_modules/absurd-sdk/package.json', import.meta.url)).version;
    assert.equal(
      installed,
      verifiedAbsurdSdkVersion,
      `absurd-sdk ${installed} is installed, but src/client/absurd-sdk-adapter.ts describes the statements of ` +
        `absurd-sdk ${verifiedAbsurdSdkVersion}. Check each statement and behaviour listed there against the new version, ` +
        'then update verifiedAbsurdSdkVersion and the absurd-sdk range in package.json together.',
    );
    const range = readJson(new URL('../../package.json', import.meta.url)).dependencies['absurd-sdk'];
    assert.equal(range, verifiedAbsurdSdkVersion, 'package.json must allow only the absurd-sdk version the adapter was verified against');
  });

  test('the real client sends the load, lookup, write, heartbeat and await statements with the parameters the adapter reads', async () => {
    const queueName = uniqueQueueName('contract');
    const seen: Array<{ statement: SdkStatement; rows: any[] }> = [];
    const connection = {
      async query(text: string, params?: unknown[]) {
        const result = await database.query(text, params);
        seen.push({ statement: classifySdkStatement(text, params), rows: result.rows });
        return result;
      },
    };
    let claimedObject: ClaimedTask | undefined;
    let executedObject: ClaimedTask | undefined;
    class Observed extends SdkAbsurd {
      override async claimTasks(options?: Parameters<SdkAbsurd['claimTasks']>[0]) {
        const tasks = await super.claimTasks(options);
        claimedObject ??= tasks[0];
        return tasks;
      }
      override async executeTask(task: ClaimedTask, claimTimeout: number, options?: { fatalOnLeaseTimeout?: boolean }) {
        executedObject ??= task;
        return super.executeTask(task, claimTimeout, options);
      }
    }
    const sdk = new Observed({ db: connection as unknown as pg.Pool, queueName, log: quietLog });
    const ids: { task?: string; run?: string } = {};
    sdk.registerTask({ name: 'contract' }, async (_params, ctx) => {
      ids.task = ctx.taskID;
      await ctx.step('first', async () => ({ n: 1 }));
      await ctx.step('nothing', async () => undefined);
      const exact = await ctx.beginStep<number>('exact');
      await ctx.completeStep(checkpointHandle('exact', undefined), 7);
      assert.equal(exact.done, false);
      await ctx.heartbeat(45);
      await sdk.emitEvent('ready', { go: true });
      return ctx.awaitEvent('ready', { stepName: 'wait-ready' });
    });
    await sdk.createQueue();
    await sdk.spawn('contract', {});
    await sdk.workBatch('contract-worker', 30, 1);
    assert.ok(claimedObject && claimedObject === executedObject, 'workBatch hands the claimed object itself to executeTask');
    ids.run = claimedObject.run_id;
    const statements = seen.map((entry) => entry.statement).filter((statement) => statement.kind !== 'other');
    assert.deepEqual(statements, [
      { kind: 'load', queueName, taskID: ids.task, runID: ids.run },
      { kind: 'lookup', queueName, taskID: ids.task, checkpointName: 'first' },
      { kind: 'write', queueName, taskID: ids.task, checkpointName: 'first', stateText: '{"n":1}', runID: ids.run, extension: 30 },
      { kind: 'lookup', queueName, taskID: ids.task, checkpointName: 'nothing' },
      { kind: 'write', queueName, taskID: ids.task, checkpointName: 'nothing', stateText: null, runID: ids.run, extension: 30 },
      { kind: 'lookup', queueName, taskID: ids.task, checkpointName: 'exact' },
      { kind: 'write', queueName, taskID: ids.task, checkpointName: 'exact', stateText: '7', runID: ids.run, extension: 30 },
      { kind: 'heartbeat', queueName, runID: ids.run, extension: 45 },
      { kind: 'lookup', queueName, taskID: ids.task, checkpointName: 'wait-ready' },
      { kind: 'await', queueName, taskID: ids.task, runID: ids.run, checkpointName: 'wait-ready' },
    ]);
    const awaited = seen.find((entry) => entry.statement.kind === 'await')!;
    assert.deepEqual(awaitedCheckpoint(awaited.rows), { state: { go: true } }, 'the await returned its payload, stored under its name');
    const { rows } = await database.query(`select checkpoint_name, state from absurd."c_${queueName}" order by checkpoint_name`);
    assert.deepEqual(rows, [
      { checkpoint_name: 'exact', state: 7 },
      { checkpoint_name: 'first', state: { n: 1 } },
      { checkpoint_name: 'nothing', state: null },
      { checkpoint_name: 'wait-ready', state: { go: true } },
    ]);
    assert.deepEqual(await sdk.fetchTaskResult(ids.task!), { state: 'completed', result: { go: true } });
    await sdk.close();
  });

  test('a load and a lookup answered with only checkpoint_name and state are all absurd-sdk reads', async () => {
    const queueName = uniqueQueueName('columns');
    const connection = {
      async query(text: string, params?: unknown[]) {
        const statement = classifySdkStatement(text, params);
        if (statement.kind === 'load') return { rows: [{ checkpoint_name: 'loaded', state: 'from the load' }] };
        if (statement.kind === 'lookup') return { rows: [{ checkpoint_name: statement.checkpointName, state: 'from the lookup' }] };
        return database.query(text, params);
      },
    };
    const sdk = new SdkAbsurd({ db: connection as unknown as pg.Pool, queueName, log: quietLog });
    const ran: string[] = [];
    sdk.registerTask({ name: 'columns' }, async (_params, ctx) => [
      await ctx.step('loaded', async () => ran.push('loaded')),
      await ctx.step('looked-up', async () => ran.push('looked-up')),
    ]);
    await sdk.createQueue();
    const { taskID } = await sdk.spawn('columns', {});
    await sdk.workBatch('w', 30, 1);
    assert.deepEqual(ran, []);
    assert.deepEqual(await sdk.fetchTaskResult(taskID), { state: 'completed', result: ['from the load', 'from the lookup'] });
    await sdk.close();
  });
});
