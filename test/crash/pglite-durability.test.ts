// On-disk PGlite under real process death: what a killed process reported as written is on disk, and a
// second process is refused a directory that a live process owns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Absurd } from '../../src/client/absurd.ts';
import { DatabaseLockedError } from '../../src/errors/database-locked-error.ts';
import { createSharedDatabase } from '../support/crash-databases.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerSignal } from '../support/worker-process.ts';
import { uniqueQueueName } from '../support/test-database.ts';

const checkpointWriter = new URL('../fixtures/checkpoint-writer.ts', import.meta.url);
const directoryOwner = new URL('../fixtures/directory-owner.ts', import.meta.url);
const directoryOpener = new URL('../fixtures/directory-opener.ts', import.meta.url);

test('a process killed mid-load leaves every task and checkpoint it reported on disk', async () => {
  const database = await createSharedDatabase('pglite');
  const queue = uniqueQueueName('durability');
  try {
    const writer = startWorkerProcess(checkpointWriter, {
      options: { url: database.url, queue, checkpointsPerTask: 4 },
    });
    // Kill while writes are in flight: right after the 30th reported checkpoint, without letting it pause.
    await writer.waitForSignal('checkpoint', { where: () => countOf(writer.signals, 'checkpoint') >= 30 });
    const exit = await writer.kill();
    assert.equal(exit.signal, 'SIGKILL');

    const spawned = writer.signals.filter((signal) => signal.signal === 'spawned');
    const checkpoints = writer.signals.filter((signal) => signal.signal === 'checkpoint');
    assert.ok(checkpoints.length >= 30);

    const reopened = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
    try {
      const tasks = await reopened.database.query<{ task_id: string; params: { index: number } }>(
        `select task_id::text as task_id, params from absurd.${quoteIdentifier(`t_${queue}`)}`,
      );
      const paramsByTask = new Map(tasks.rows.map((row) => [row.task_id, row.params]));
      for (const signal of spawned) {
        const params = paramsByTask.get(String(signal.taskID));
        assert.deepEqual(params, { index: signal.index }, `task ${signal.taskID} is missing`);
      }
      const stored = await reopened.database.query<{ task_id: string; checkpoint_name: string; state: unknown }>(
        `select task_id::text as task_id, checkpoint_name, state from absurd.${quoteIdentifier(`c_${queue}`)}`,
      );
      const stateByKey = new Map(stored.rows.map((row) => [`${row.task_id}/${row.checkpoint_name}`, row.state]));
      for (const signal of checkpoints) {
        const state = stateByKey.get(`${signal.taskID}/${signal.name}`);
        assert.deepEqual(state, signal.value, `checkpoint ${signal.name} of ${signal.taskID} is missing`);
      }
      // The reopened directory is a working database, not just readable: new work commits and reads back.
      const { taskID } = await reopened.spawn('after-crash', { ok: true }, { queue });
      const result = await reopened.fetchTaskResult(taskID);
      assert.equal(result?.state, 'pending');
    } finally {
      await reopened.close();
    }
  } finally {
    await database.remove();
  }
});

test('a second process is refused a directory a live process owns, and the owner data stays intact', async () => {
  const database = await createSharedDatabase('pglite');
  const queue = uniqueQueueName('locked');
  try {
    const owner = startWorkerProcess(directoryOwner, { options: { url: database.url, queue } });
    const ready = await owner.waitForSignal('ready');

    const opener = startWorkerProcess(directoryOpener, { options: { url: database.url } });
    await opener.exited;
    const outcome = opener.signals.find((signal) => signal.signal === 'failed' || signal.signal === 'opened');
    assert.ok(outcome, `the opener reported nothing:\n${opener.output()}`);
    assert.equal(outcome.signal, 'failed', 'the second process opened a directory another live process owns');
    assert.equal(outcome.locked, true, `expected DatabaseLockedError, got ${outcome.name}: ${outcome.message}`);
    assert.equal(outcome.ownerPid, owner.pid);

    // The same refusal in this process.
    await assert.rejects(async () => {
      const client = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url });
      try {
        await client.ready();
      } finally {
        await client.close();
      }
    }, DatabaseLockedError);

    // SIGKILL leaves the lock behind; the next opener takes it over and finds the owner's task.
    await owner.kill();
    const reopened = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
    try {
      const result = await reopened.fetchTaskResult(String(ready.taskID));
      assert.equal(result?.state, 'pending');
    } finally {
      await reopened.close();
    }
  } finally {
    await database.remove();
  }
});

function countOf(signals: readonly WorkerSignal[], name: string): number {
  return signals.filter((signal) => signal.signal === name).length;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
