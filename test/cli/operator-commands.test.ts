// The operator commands (`queues`, `cancel`, `retry`, `cleanup`) run as child processes against embedded PGlite
// (default) or Postgres (TEST_DATABASE_URL), on real tasks that a real worker completed or failed. Each follow-up
// command the CLI prints is run as printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { Absurd } from '../../src/index.ts';
import { usingPostgres } from '../support/test-database.ts';
import { createChildDatabase, type ChildDatabase } from '../docs/support/child-database.ts';
import { describeRun, runNode, type NodeRun } from '../docs/support/run-node.ts';

const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const quiet = { ...console, log: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function run(args: string[]): Promise<NodeRun> {
  return runNode(cli, args, { env: { ABSURD_DATABASE_URL: undefined }, timeoutMs: 120_000 });
}

function expectExit(result: NodeRun, code: number, label: string): void {
  assert.equal(result.code, code, describeRun(label, result));
}

/** Runs a command line the CLI printed, through a shell, exactly as a person would paste it. */
function runPrinted(commandLine: string): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', commandLine], {
      env: { ...process.env, ABSURD_DATABASE_URL: '', PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut: false });
    });
  });
}

/** The command after `label` on a line of the output. */
function printedCommand(output: string, label: string): string {
  const line = output.split('\n').find((candidate) => candidate.startsWith(label));
  assert.ok(line, `no "${label}" line in:\n${output}`);
  return line.slice(label.length).trim();
}

describe('operator commands: queues, cancel, retry, cleanup', () => {
  let database: ChildDatabase;
  let failing = true;
  const stepRuns = new Map<string, number>();
  let completedID: string;
  let retriedInPlaceID: string;
  let retriedAsNewID: string;
  let pendingID: string;
  let newTaskID: string;

  /** A client of the test process; closed before any CLI process opens the (single-process) embedded database. */
  async function withAbsurd<T>(use: (absurd: Absurd) => Promise<T>): Promise<T> {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: 'ops', migrate: true, log: quiet });
    absurd.registerTask({ name: 'fetch-and-report' }, async (params: { id: string }, ctx) => {
      await ctx.step('fetch', async () => {
        stepRuns.set(params.id, (stepRuns.get(params.id) ?? 0) + 1);
        return { fetched: params.id };
      });
      if (failing && params.id !== 'fine') throw new Error(`report ${params.id} failed`);
      return { reported: params.id };
    });
    try {
      return await use(absurd);
    } finally {
      await absurd.close();
    }
  }

  async function drain(absurd: Absurd, taskIDs: string[]): Promise<void> {
    const worker = await absurd.startWorker({ claimTimeout: 30, pollInterval: 0.05 });
    try {
      for (const taskID of taskIDs) {
        const snapshot = await absurd.awaitTaskResult(taskID, { timeout: 60 });
        assert.ok(snapshot.state === 'completed' || snapshot.state === 'failed', JSON.stringify(snapshot));
      }
    } finally {
      await worker.close();
    }
  }

  before(async () => {
    database = await createChildDatabase();
    await withAbsurd(async (absurd) => {
      await absurd.createQueue('ops');
      await absurd.createQueue('idle');
      const options = { maxAttempts: 1, retryStrategy: { kind: 'none' as const } };
      ({ taskID: completedID } = await absurd.spawn('fetch-and-report', { id: 'fine' }, options));
      ({ taskID: retriedInPlaceID } = await absurd.spawn('fetch-and-report', { id: 'in-place' }, options));
      ({ taskID: retriedAsNewID } = await absurd.spawn('fetch-and-report', { id: 'as-new' }, options));
      // No worker serves "idle": this task stays pending.
      ({ taskID: pendingID } = await absurd.spawn('idle-report', { id: 'idle' }, { queue: 'idle' }));
      await drain(absurd, [completedID, retriedInPlaceID, retriedAsNewID]);
    });
  });

  after(async () => {
    await database?.close();
  });

  test('queues counts the tasks of every queue by state', async () => {
    const json = await run(['queues', '--db', database.url, '--json']);
    expectExit(json, 0, 'queues --json');
    const queues = JSON.parse(json.stdout) as Array<{ queueName: string; tasks: Record<string, number>; totalTasks: number; oldestPendingAt: string | null }>;
    assert.deepEqual(
      queues.map((queue) => [queue.queueName, queue.tasks, queue.totalTasks]),
      [
        ['idle', { pending: 1, running: 0, sleeping: 0, completed: 0, failed: 0, cancelled: 0 }, 1],
        ['ops', { pending: 0, running: 0, sleeping: 0, completed: 1, failed: 2, cancelled: 0 }, 3],
      ],
    );
    assert.ok(queues[0]?.oldestPendingAt, 'the pending task has no enqueue time');
    const table = await run(['queues', '--db', database.url]);
    expectExit(table, 0, 'queues');
    assert.match(table.stdout, /QUEUE\s+PENDING\s+RUNNING\s+SLEEPING\s+COMPLETED\s+FAILED\s+CANCELLED/);
    assert.match(table.stdout, /\nops\s+0\s+0\s+0\s+1\s+2\s+0\s+-/);
    const listed = await runPrinted(printedCommand(table.stdout, "List a queue's tasks:"));
    expectExit(listed, 0, 'the runs command queues printed');
    assert.match(listed.stdout, new RegExp(`${pendingID}\\s+idle`));
    const unknown = await run(['queues', '--db', database.url, '--queue', 'nope']);
    expectExit(unknown, 1, 'queues --queue nope');
    assert.match(unknown.stderr, /There is no queue "nope" in this database\. Its queues: idle, ops\./);
  });

  test('runs and show print follow-up commands that work as printed, with the --db and --queue given', async () => {
    const runs = await run(['runs', '--db', database.url, '--queue', 'ops']);
    expectExit(runs, 0, 'runs');
    const showCommand = printedCommand(runs.stdout, 'See one run in detail:');
    assert.match(showCommand, / show \S+ --db \S+ --queue ops$/);
    const show = await runPrinted(showCommand);
    expectExit(show, 0, 'the show command runs printed');
    assert.match(show.stdout, /^Task \S+\s+"fetch-and-report"\s+queue "ops"/);
    const none = await run(['runs', '--db', database.url, '--state', 'sleeping']);
    expectExit(none, 0, 'runs --state sleeping');
    assert.match(none.stdout, /No tasks in state sleeping\./);
    const all = await runPrinted(printedCommand(none.stdout, 'All states:'));
    expectExit(all, 0, 'the runs command printed for all states');
    assert.match(all.stdout, new RegExp(completedID));
    const missing = await run(['show', '00000000-0000-7000-8000-000000000000', '--db', database.url]);
    expectExit(missing, 1, 'show of an unknown task');
    const listCommand = printedCommand(missing.stderr.replace(/^error: .*List tasks with: /, 'List tasks with: '), 'List tasks with:');
    expectExit(await runPrinted(listCommand), 0, 'the runs command show printed');
  });

  test('cancel stops a pending task, says so again when repeated, and refuses a finished one', async () => {
    const cancelled = await run(['cancel', pendingID, '--db', database.url]);
    expectExit(cancelled, 0, 'cancel of a pending task');
    assert.match(cancelled.stdout, new RegExp(`Cancelled task ${pendingID} \\("idle-report", queue "idle", was pending\\)\\.`));
    expectExit(await runPrinted(printedCommand(cancelled.stdout, 'See it:')), 0, 'the show command cancel printed');
    const again = await run(['cancel', pendingID, '--db', database.url, '--json']);
    expectExit(again, 0, 'cancel of a cancelled task');
    assert.deepEqual(JSON.parse(again.stdout), { taskID: pendingID, queueName: 'idle', previousState: 'cancelled', state: 'cancelled' });
    const finished = await run(['cancel', completedID, '--db', database.url]);
    expectExit(finished, 1, 'cancel of a completed task');
    assert.match(finished.stderr, new RegExp(`Task ${completedID} has already completed; only pending, running or sleeping tasks can be cancelled\\.`));
    const wrongQueue = await run(['cancel', completedID, '--db', database.url, '--queue', 'idle']);
    expectExit(wrongQueue, 1, 'cancel in the wrong queue');
    assert.match(wrongQueue.stderr, new RegExp(`No task ${completedID} in queue "idle"\\. List tasks with: .* runs --db \\S+ --queue idle`));
    const notAnID = await run(['cancel', 'not-a-task-id', '--db', database.url]);
    expectExit(notAnID, 1, 'cancel of something that is not a task id');
    assert.match(notAnID.stderr, /No task not-a-task-id in any queue\./);
  });

  test('retry runs a failed task again in place (replaying its checkpoints) or as a new task', async () => {
    const completed = await run(['retry', completedID, '--db', database.url]);
    expectExit(completed, 1, 'retry of a completed task');
    assert.match(completed.stderr, new RegExp(`Task ${completedID} is completed; only failed tasks can be retried\\.`));
    const tooFew = await run(['retry', retriedInPlaceID, '--db', database.url, '--max-attempts', '1']);
    expectExit(tooFew, 1, 'retry --max-attempts 1 after one attempt');
    assert.match(tooFew.stderr, /--max-attempts 1 is not more than the 1 attempts task \S+ has made\. Pass --max-attempts 2 or more/);
    expectExit(await run(['retry', retriedInPlaceID, '--db', database.url, '--max-attempts', 'none']), 2, 'retry --max-attempts none');

    const inPlace = await run(['retry', retriedInPlaceID, '--db', database.url]);
    expectExit(inPlace, 0, 'retry in place');
    assert.match(inPlace.stdout, new RegExp(`Task ${retriedInPlaceID} \\(queue "ops"\\) will run again as attempt 2 on the next free worker`));
    const asNew = await run(['retry', retriedAsNewID, '--new-task', '--db', database.url, '--json']);
    expectExit(asNew, 0, 'retry --new-task');
    const spawned = JSON.parse(asNew.stdout) as { taskID: string; retriedTaskID: string; newTask: boolean; queueName: string };
    assert.equal(spawned.retriedTaskID, retriedAsNewID);
    assert.equal(spawned.newTask, true);
    assert.equal(spawned.queueName, 'ops');
    assert.notEqual(spawned.taskID, retriedAsNewID);
    newTaskID = spawned.taskID;

    failing = false;
    await withAbsurd(async (absurd) => {
      await drain(absurd, [retriedInPlaceID, newTaskID]);
      assert.deepEqual(await absurd.fetchTaskResult(retriedInPlaceID), { state: 'completed', result: { reported: 'in-place' } });
      assert.deepEqual(await absurd.fetchTaskResult(newTaskID), { state: 'completed', result: { reported: 'as-new' } });
      assert.equal((await absurd.fetchTaskResult(retriedAsNewID))?.state, 'failed', 'the original of a new-task retry stays failed');
    });
    // In place, attempt 2 replayed the step attempt 1 had checkpointed; the new task ran it afresh.
    assert.equal(stepRuns.get('in-place'), 1);
    assert.equal(stepRuns.get('as-new'), 2);
  });

  test('cleanup deletes finished tasks older than --ttl, in one queue or all', async () => {
    const young = await run(['cleanup', '--db', database.url, '--ttl', '1d']);
    expectExit(young, 0, 'cleanup --ttl 1d');
    assert.match(young.stdout, /queue "ops": deleted 0 finished tasks and 0 events older than 1 day\./);
    const policy = await run(['cleanup', '--db', database.url, '--json']);
    expectExit(policy, 0, 'cleanup with the queue policy');
    assert.deepEqual(
      (JSON.parse(policy.stdout) as Array<{ queueName: string; ttlSeconds: number; tasksDeleted: number }>).map((queue) => [queue.queueName, queue.ttlSeconds, queue.tasksDeleted]),
      [
        ['idle', 30 * 86_400, 0],
        ['ops', 30 * 86_400, 0],
      ],
    );
    const ops = await run(['cleanup', '--db', database.url, '--queue', 'ops', '--ttl', '0']);
    expectExit(ops, 0, 'cleanup --queue ops --ttl 0');
    assert.match(ops.stdout, /^queue "ops": deleted 4 finished tasks and 0 events older than 0 seconds\.\n$/);
    const left = await run(['queues', '--db', database.url, '--json']);
    const counts = (JSON.parse(left.stdout) as Array<{ queueName: string; totalTasks: number }>).map((queue) => [queue.queueName, queue.totalTasks]);
    assert.deepEqual(counts, [['idle', 1], ['ops', 0]], 'cleanup of "ops" touched another queue');
    expectExit(await run(['cleanup', '--db', database.url, '--ttl', 'soon']), 2, 'cleanup --ttl soon');
  });
});

// A CLI process and a worker in this process share the database only on Postgres (an embedded one is single-process).
describe('cancel of a running task', { skip: !usingPostgres && 'needs TEST_DATABASE_URL' }, () => {
  test('the running attempt stops at its next step, and the task stays cancelled', async () => {
    const database = await createChildDatabase();
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: 'long', migrate: true, log: quiet });
    let steps = 0;
    let stopped: unknown;
    try {
      await absurd.createQueue('long');
      absurd.registerTask({ name: 'long-report' }, async (_params: Record<string, never>, ctx) => {
        try {
          for (let index = 0; index < 600; index++) {
            await ctx.step(`part-${index}`, async () => {
              steps++;
              await new Promise((resolve) => setTimeout(resolve, 50));
              return index;
            });
          }
        } catch (error) {
          stopped = error;
          throw error;
        }
        return { done: true };
      });
      const { taskID } = await absurd.spawn('long-report', {});
      const worker = await absurd.startWorker({ claimTimeout: 30, pollInterval: 0.05 });
      try {
        for (let polls = 0; steps < 3 && polls < 600; polls++) await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok(steps >= 3, 'the task never started');
        const cancelled = await run(['cancel', taskID, '--db', database.url]);
        expectExit(cancelled, 0, 'cancel of a running task');
        assert.match(cancelled.stdout, /was running\)\. Its running attempt stops at its next checkpoint or heartbeat\./);
        for (let polls = 0; stopped === undefined && polls < 600; polls++) await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok(stopped !== undefined, 'the running attempt did not stop');
        const stepsWhenStopped = steps;
        assert.ok(stepsWhenStopped < 600, 'the task ran to its end');
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'cancelled');
      } finally {
        await worker.close();
      }
    } finally {
      await absurd.close();
      await database.close();
    }
  });
});
