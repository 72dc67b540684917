// A deploy while runs are in flight, with real worker processes of two versions on one database: each
// version works its own queue, so the new workers never claim a run the old code started and the old
// workers finish it; then the old workers retire and a new-version worker that accepts the old version
// takes over the run still waiting, replaying the old code's checkpoint and finishing with the new code.
// On Postgres the two versions' workers run side by side; an on-disk PGlite directory is held by one
// process at a time, so there the same steps run with the processes taking turns.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { taskVersionHeader, versionedQueueName } from '../../src/client/task-version.ts';
import { queueTable } from '../../src/db/queue-table.ts';
import { crashBackends, createSharedDatabase, type CrashBackend, type SharedDatabase } from '../support/crash-databases.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { releaseEvent, type AnalyseResult, type VersionedWorkerOptions } from './versioned-task.ts';

const workerScript = new URL('./versioned-worker.ts', import.meta.url);
const { backends, postgresSkipReason } = await crashBackends();
const running = new Set<WorkerProcess>();
after(async () => {
  await Promise.all([...running].map((worker) => worker.kill()));
});

/** The web process: spawns through typed handles of the versions it knows, and emits the release events. */
async function asWeb<T>(database: SharedDatabase, queue: string, action: (web: Web) => Promise<T>): Promise<T> {
  const absurd = new Absurd({ db: database.url, queueName: queue });
  try {
    await absurd.ready();
    return await action(new Web(absurd, queue));
  } finally {
    await absurd.close();
  }
}

class Web {
  readonly absurd: Absurd;
  readonly queue: string;

  constructor(absurd: Absurd, queue: string) {
    this.absurd = absurd;
    this.queue = queue;
  }

  async spawn(version: string): Promise<string> {
    const analyse = this.absurd.task<{ question: string }, AnalyseResult>({ name: 'analyse', queue: versionedQueueName(this.queue, version), version });
    return (await analyse.spawn({ question: 'How was Q1?' })).taskID;
  }

  release(taskID: string, version: string): Promise<void> {
    return this.absurd.emitEvent(releaseEvent(taskID), null, versionedQueueName(this.queue, version));
  }

  /** Resolves once the run waits for its release event, holding no lease: its worker may go away. */
  async waiting(taskID: string, version: string): Promise<void> {
    const queue = versionedQueueName(this.queue, version);
    for (;;) {
      const { rows } = await this.absurd.database.query<{ state: string }>(`select state from ${queueTable('t', queue)} where task_id = $1::uuid`, [taskID]);
      if (rows[0]?.state === 'sleeping') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async outcome(taskID: string, version: string) {
    const queue = versionedQueueName(this.queue, version);
    const { rows } = await this.absurd.database.query<{ headers: Record<string, unknown> }>(
      `select headers from ${queueTable('t', queue)} where task_id = $1::uuid`,
      [taskID],
    );
    const snapshot = await this.absurd.task<{ question: string }, AnalyseResult>({ name: 'analyse', queue }).awaitResult(taskID, { timeout: 60 });
    return { recordedVersion: rows[0]?.headers?.[taskVersionHeader], snapshot };
  }
}

function startWorker(database: SharedDatabase, queue: string, options: Omit<VersionedWorkerOptions, 'url' | 'queue'>): WorkerProcess {
  const worker = startWorkerProcess(workerScript, { options: { url: database.url, queue, ...options } satisfies VersionedWorkerOptions });
  running.add(worker);
  void worker.exited.then(() => running.delete(worker));
  return worker;
}

/** On PGlite: runs a draining worker to its end, so the next process can open the directory. */
async function drain(database: SharedDatabase, queue: string, options: Omit<VersionedWorkerOptions, 'url' | 'queue' | 'mode'>): Promise<WorkerProcess> {
  const worker = startWorker(database, queue, { ...options, mode: 'drain' });
  await worker.waitForSignal('drained', { timeoutMs: 120_000 });
  assert.equal((await worker.exited).code, 0, worker.output());
  return worker;
}

function stepsOf(worker: WorkerProcess): string[] {
  return worker.signals.filter((signal) => signal.signal === 'drafted' || signal.signal === 'finished').map((signal) => `${signal.signal}:${String(signal.taskID)}`);
}

const expected = (draftedBy: string, finishedBy: string, recordedVersion: string) => ({
  recordedVersion,
  snapshot: { state: 'completed', result: { draftedBy, finishedBy, recordedVersion } },
});

describe('two versions on one database', () => {
  test('Postgres: v1 and v2 workers side by side; v2 takes over a v1 run once v1 retires', { skip: backends.includes('postgres') ? false : postgresSkipReason }, async () => {
    const database = await createSharedDatabase('postgres');
    const queue = uniqueQueueName('deploy');
    try {
      const oldWorker = startWorker(database, queue, { version: 'v1', mode: 'serve' });
      await oldWorker.waitForSignal('ready');
      await asWeb(database, queue, async (web) => {
        const inFlight = await web.spawn('v1');
        await oldWorker.waitForSignal('drafted', { where: (signal) => signal.taskID === inFlight });

        // The deploy: v2 workers start while the v1 run waits; new runs go to v2.
        const newWorker = startWorker(database, queue, { version: 'v2', mode: 'serve' });
        await newWorker.waitForSignal('ready');
        const fresh = await web.spawn('v2');
        await newWorker.waitForSignal('drafted', { where: (signal) => signal.taskID === fresh });
        await web.release(fresh, 'v2');
        await web.release(inFlight, 'v1');
        await newWorker.waitForSignal('finished', { where: (signal) => signal.taskID === fresh });
        await oldWorker.waitForSignal('finished', { where: (signal) => signal.taskID === inFlight });
        assert.deepEqual(await web.outcome(inFlight, 'v1'), expected('v1', 'v1', 'v1'));
        assert.deepEqual(await web.outcome(fresh, 'v2'), expected('v2', 'v2', 'v2'));
        assert.deepEqual(stepsOf(newWorker), [`drafted:${fresh}`, `finished:${fresh}`], 'the v2 worker ran only the v2 run');
        assert.deepEqual(stepsOf(oldWorker), [`drafted:${inFlight}`, `finished:${inFlight}`], 'the v1 worker ran only the v1 run');

        // A run v1 started is still waiting when the v1 workers retire; a v2 worker that accepts v1 finishes it.
        const leftOver = await web.spawn('v1');
        await oldWorker.waitForSignal('drafted', { where: (signal) => signal.taskID === leftOver });
        await web.waiting(leftOver, 'v1');
        await oldWorker.kill();
        const takeover = startWorker(database, queue, { version: 'v2', queueVersion: 'v1', acceptVersions: ['v1'], mode: 'serve' });
        await takeover.waitForSignal('ready');
        await web.release(leftOver, 'v1');
        await takeover.waitForSignal('finished', { where: (signal) => signal.taskID === leftOver });
        assert.deepEqual(await web.outcome(leftOver, 'v1'), expected('v1', 'v2', 'v1'));
        assert.deepEqual(stepsOf(takeover), [`finished:${leftOver}`], 'the v1 draft replays from its checkpoint');
        await Promise.all([newWorker.kill(), takeover.kill()]);
      });
    } finally {
      await Promise.all([...running].map((worker) => worker.kill()));
      await database.remove();
    }
  });

  test('on-disk PGlite: the same deploy with the processes taking turns', { skip: backends.includes('pglite') ? false : 'no PGlite' }, async () => {
    const backend: CrashBackend = 'pglite';
    const database = await createSharedDatabase(backend);
    const queue = uniqueQueueName('deploy');
    try {
      const inFlight = await asWeb(database, queue, async (web) => {
        await web.absurd.createQueue(versionedQueueName(queue, 'v1'));
        await web.absurd.createQueue(versionedQueueName(queue, 'v2'));
        return web.spawn('v1');
      });
      assert.deepEqual(stepsOf(await drain(database, queue, { version: 'v1' })), [`drafted:${inFlight}`]);

      const fresh = await asWeb(database, queue, (web) => web.spawn('v2'));
      assert.deepEqual(stepsOf(await drain(database, queue, { version: 'v2' })), [`drafted:${fresh}`], 'the v2 worker leaves the v1 run alone');
      const leftOver = await asWeb(database, queue, async (web) => {
        await web.release(inFlight, 'v1');
        await web.release(fresh, 'v2');
        return web.spawn('v1');
      });
      // The last turn of the v1 workers: they finish their first run and start one more before they retire.
      assert.deepEqual(stepsOf(await drain(database, queue, { version: 'v1' })).sort(), [`drafted:${leftOver}`, `finished:${inFlight}`].sort());
      assert.deepEqual(stepsOf(await drain(database, queue, { version: 'v2' })), [`finished:${fresh}`]);
      await asWeb(database, queue, (web) => web.release(leftOver, 'v1'));
      const takeover = await drain(database, queue, { version: 'v2', queueVersion: 'v1', acceptVersions: ['v1'] });
      assert.deepEqual(stepsOf(takeover), [`finished:${leftOver}`], 'the v1 draft replays from its checkpoint');

      await asWeb(database, queue, async (web) => {
        assert.deepEqual(await web.outcome(inFlight, 'v1'), expected('v1', 'v1', 'v1'));
        assert.deepEqual(await web.outcome(fresh, 'v2'), expected('v2', 'v2', 'v2'));
        assert.deepEqual(await web.outcome(leftOver, 'v1'), expected('v1', 'v2', 'v1'));
      });
    } finally {
      await database.remove();
    }
  });
});
