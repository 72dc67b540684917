// A worker process of one version of the code: it works the queue of `queueVersion` (its own version
// unless it takes over an older one) and reports each step it runs live. 'serve' keeps working until killed;
// 'drain' exits once nothing on its queue can be claimed (processes take turns on an on-disk PGlite).
import { Absurd } from '../../src/client/absurd.ts';
import { taskVersion, versionedQueueName } from '../../src/client/task-version.ts';
import { fixtureOptions, sendSignal, waitToBeKilled } from '../fixtures/fixture-signal.ts';
import { releaseEvent, type AnalyseResult, type VersionedWorkerOptions } from './versioned-task.ts';

const options = fixtureOptions<VersionedWorkerOptions>();
const queueName = versionedQueueName(options.queue, options.queueVersion ?? options.version);
const silent = { log() {}, info() {}, warn() {}, error() {} };
const absurd = new Absurd({ db: options.url, queueName, log: silent });
await absurd.createQueue();

absurd.registerTask(
  { name: 'analyse', version: options.version, acceptVersions: options.acceptVersions ?? [] },
  async (_params: { question: string }, ctx): Promise<AnalyseResult> => {
    // Each signal says a step ran live in this process; a replayed step sends none.
    const draftedBy = await ctx.step('draft', async () => {
      sendSignal('drafted', { taskID: ctx.taskID, version: options.version });
      return options.version;
    });
    await ctx.awaitEvent(releaseEvent(ctx.taskID));
    const finishedBy = await ctx.step('finish', async () => {
      sendSignal('finished', { taskID: ctx.taskID, version: options.version });
      return options.version;
    });
    return { draftedBy, finishedBy, recordedVersion: taskVersion(ctx) ?? null };
  },
);

sendSignal('ready', { pid: process.pid, queue: queueName });
if (options.mode === 'serve') {
  await absurd.startWorker({ workerId: `${options.version}:${process.pid}`, claimTimeout: 30, pollInterval: 0.1 });
  await waitToBeKilled();
} else {
  for (;;) {
    const [task] = await absurd.claimTasks({ batchSize: 1, claimTimeout: 30, workerId: `${options.version}:${process.pid}` });
    if (!task) break;
    await absurd.executeTask(task, 30);
  }
  await absurd.close();
  sendSignal('drained');
}
