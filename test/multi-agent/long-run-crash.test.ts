// Durable waits and forks across real worker processes killed with SIGKILL, on on-disk PGlite (processes
// take turns on the directory) and on Postgres: the sleep tool keeps its wake-up time through a crash and
// wakes on the database's (fake) clock in another process; the wait tool is woken by an event another
// process emits; a fork of a run whose worker was killed mid-run (and of a finished run) asks the model
// nothing again before the fork point. The model is the real OpenAI provider against a local server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { crashBackends, createSharedDatabase, type CrashBackend, type SharedDatabase } from '../support/crash-databases.ts';
import type { ModelConversation } from '../support/model-conversation.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import type { ScriptedReply } from '../support/openai-wire-format.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import type { LongRunScenario, LongRunWorkerOptions } from './fixtures/long-run-worker.ts';

const fixture = new URL('./fixtures/long-run-worker.ts', import.meta.url);
const cli = fileURLToPath(new URL('../../bin/ai-sdk-absurd.js', import.meta.url));
const start = Date.parse('2030-01-01T00:00:00Z');
const at = (seconds: number) => new Date(start + seconds * 1000).toISOString();

/** Each agent calls its tool once (the analyst twice, one quarter each), then reports what the tools said. */
function script(conversation: ModelConversation): ScriptedReply {
  const said = conversation.toolResults.map((result) => result.output).join(' | ');
  if (conversation.model === 'gpt-sleeper') {
    if (conversation.toolResults.length === 0) return { toolCalls: [{ toolName: 'sleep', input: { seconds: 3600, reason: 'the report is due in an hour' } }] };
    return { text: `woke: ${said}` };
  }
  if (conversation.model === 'gpt-waiter') {
    if (conversation.toolResults.length === 0) return { toolCalls: [{ toolName: 'waitForEvent', input: { event: 'invoice.paid' } }] };
    return { text: `event: ${said}` };
  }
  const quarters = ['Q1', 'Q2'];
  const next = quarters[conversation.toolResults.length];
  if (next) return { toolCalls: [{ toolName: 'revenue', input: { quarter: next } }] };
  return { text: `report: ${said}` };
}

const { backends, postgresSkipReason } = await crashBackends();
let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-long-runs-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface Run {
  readonly shared: SharedDatabase;
  readonly server: OpenAICompatibleServer;
  readonly queue: string;
  readonly effectsFile: string;
  /** Starts a worker process of this run's scenario (stopping once `taskID` ends). */
  worker(taskID: string, extra?: Partial<LongRunWorkerOptions>): WorkerProcess;
  /** A client of the database for the test itself; on PGlite only while no worker process is running. */
  withClient<T>(use: (absurd: Absurd) => Promise<T>): Promise<T>;
  /** Sets the database clock (`absurd.fake_now`) for every session opened from now on. */
  setClock(iso: string): Promise<void>;
  effects(): Promise<Record<string, unknown>[]>;
}

async function withRun(backend: CrashBackend, scenario: LongRunScenario, body: (run: Run) => Promise<void>): Promise<void> {
  const shared = await createSharedDatabase(backend);
  const server = await startOpenAICompatibleServer({ script });
  const queue = uniqueQueueName('longrun');
  const effectsFile = join(scratch, `${queue}.jsonl`);
  await writeFile(effectsFile, '');
  const workers: WorkerProcess[] = [];
  let clock: string | undefined;
  const withClient: Run['withClient'] = async (use) => {
    const absurd = new Absurd({ db: shared.url, queueName: queue });
    try {
      return await use(absurd);
    } finally {
      await absurd.close();
    }
  };
  const run: Run = {
    shared,
    server,
    queue,
    effectsFile,
    worker(taskID, extra = {}) {
      const options: LongRunWorkerOptions = {
        scenario,
        url: shared.url,
        queue,
        taskID,
        modelBaseURL: server.baseURL,
        effectsFile,
        claimTimeout: 2,
        ...(clock ? { fakeNow: clock } : {}),
        ...extra,
      };
      const worker = startWorkerProcess(fixture, { options });
      workers.push(worker);
      return worker;
    },
    withClient,
    async setClock(iso) {
      clock = iso;
      // Postgres applies a database's settings to each new session; embedded PGlite does not, so its one
      // session is set by the worker process (`fakeNow`).
      if (backend === 'postgres') {
        await withClient(async (absurd) => {
          const { rows } = await absurd.database.query<{ name: string }>('select current_database() as name');
          await absurd.database.query(`alter database "${rows[0]!.name}" set absurd.fake_now = '${iso}'`);
        });
      }
    },
    async effects() {
      const text = await readFile(effectsFile, 'utf8');
      return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
  try {
    await withClient((absurd) => absurd.createQueue());
    await body(run);
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
    await server.close();
    await shared.remove();
  }
}

async function spawnTask(run: Run, taskName: string, prompt: string): Promise<string> {
  return run.withClient(async (absurd) => {
    const { taskID } = await absurd.spawn(taskName, { prompt }, { queue: run.queue, maxAttempts: 5, retryStrategy: { kind: 'none' } });
    return taskID;
  });
}

async function finish(worker: WorkerProcess): Promise<void> {
  const finished = await worker.waitForSignal('task-finished', { timeoutMs: 120_000 });
  assert.equal((await worker.exited).code, 0, worker.output());
  assert.equal(finished.state, 'completed', worker.output());
}

async function resultText(run: Run, taskID: string): Promise<string> {
  return run.withClient(async (absurd) => {
    const snapshot = (await absurd.fetchTaskResult(taskID)) as { result?: { text?: unknown } } | null;
    return String(snapshot?.result?.text ?? '');
  });
}

function assertNoModelRequestRepeated(server: OpenAICompatibleServer, expectedRequests: number): void {
  assert.deepEqual(server.repeatedRequests().map((request) => request.index), [], 'no answered model request was asked again');
  assert.equal(server.requests.length, expectedRequests, 'model requests made');
}

for (const backend of ['pglite', 'postgres'] as CrashBackend[]) {
  const skip = backends.includes(backend) ? false : postgresSkipReason;
  describe(`durable waits and forks across killed workers (${backend})`, { skip }, () => {
    test('sleepTool: killed right after it recorded its wake-up time, killed again while sleeping, woken by the clock in a third process', () =>
      withRun(backend, 'sleep', async (run) => {
        const taskID = await spawnTask(run, 'sleeper', 'Send the report when it is due.');
        await run.setClock(at(0));
        const first = run.worker(taskID, { hang: { at: 'checkpoint', stepName: ':sleep$' } });
        await first.waitForSignal('hanging', { timeoutMs: 90_000 });
        assert.equal((await first.kill()).signal, 'SIGKILL');

        // Past the dead worker's lease: the next process takes the task over, keeps the wake-up time, sleeps.
        await run.setClock(at(30));
        const second = run.worker(taskID, { reportStates: true });
        await second.waitForSignal('task-state', { where: (signal) => signal.state === 'sleeping', timeoutMs: 90_000 });
        await second.kill();
        await run.withClient(async (absurd) => {
          const { rows } = await absurd.database.query<{ available_at: Date }>(
            `select available_at from absurd."r_${run.queue}" where task_id = $1 and state = 'sleeping'`,
            [taskID],
          );
          assert.equal(new Date(rows[0]!.available_at).toISOString(), at(3600), 'the wake-up time recorded before the crash');
        });

        // Not due yet: a worker leaves it asleep. Then the clock passes the wake-up time and a worker wakes it.
        await run.setClock(at(3599));
        const early = run.worker(taskID, { reportStates: true });
        await early.waitForSignal('ready');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.deepEqual(early.signals.filter((signal) => signal.signal === 'task-state').map((signal) => signal.state), ['sleeping']);
        await early.kill();
        await run.setClock(at(3605));
        await finish(run.worker(taskID));

        const text = await resultText(run, taskID);
        assert.match(text, new RegExp(`"sleptFrom":"${at(0)}"`));
        assert.match(text, new RegExp(`"wakeAt":"${at(3600)}"`));
        assert.match(text, new RegExp(`"wokeAt":"${at(3605)}"`));
        assert.match(text, /"reason":"the report is due in an hour"/);
        assertNoModelRequestRepeated(run.server, 2);
      }));

    test('waitForEventTool: the waiting worker is killed, another process emits the event, a third finishes the run', () =>
      withRun(backend, 'wait', async (run) => {
        const taskID = await spawnTask(run, 'waiter', 'Collect the invoice.');
        await run.setClock(at(0));
        const first = run.worker(taskID, { reportStates: true });
        await first.waitForSignal('task-state', { where: (signal) => signal.state === 'sleeping', timeoutMs: 90_000 });
        await first.kill();

        const emitter = run.worker(taskID, { scenario: 'emit', event: { name: `invoice.paid:${taskID}`, payload: { amount: 120 } } });
        assert.equal((await emitter.exited).code, 0, emitter.output());
        assert.ok(emitter.signals.some((signal) => signal.signal === 'emitted'));

        await finish(run.worker(taskID));
        assert.match(await resultText(run, taskID), /"event":"invoice.paid","received":true,"payload":\{"amount":120\}/);
        assertNoModelRequestRepeated(run.server, 2);
      }));

    for (const killed of [true, false]) {
      test(`fork (ai-sdk-absurd fork in its own process) of a run ${killed ? 'whose worker was killed mid-run' : 'that finished'}: nothing before the fork point is asked or run again`, () =>
        withRun(backend, 'fork', async (run) => {
          const sourceID = await spawnTask(run, 'analyst', 'Revenue of Q1 and Q2?');
          const figures = { Q1: 100, Q2: 200 };
          if (killed) {
            // Killed right after the second model response (the Q2 call) was checkpointed, before the Q2 lookup ran.
            const first = run.worker(sourceID, { figures, hang: { at: 'checkpoint', stepName: '/model:2$' } });
            await first.waitForSignal('hanging', { timeoutMs: 90_000 });
            await first.kill();
            // The operator forks instead of letting the source resume.
            await run.withClient((absurd) => absurd.cancelTask(sourceID));
          } else {
            await finish(run.worker(sourceID, { figures }));
          }
          const requestsBefore = run.server.requests.length;
          assert.equal(requestsBefore, killed ? 2 : 3);

          const forked = spawnSync(process.execPath, [cli, 'fork', sourceID, '--from', '3', '--db', run.shared.url, '--json'], {
            encoding: 'utf8',
            timeout: 60_000,
          });
          assert.equal(forked.status, 0, forked.stderr);
          const fork = JSON.parse(forked.stdout) as { taskID: string; copiedCheckpoints: string[] };
          assert.equal(fork.copiedCheckpoints.length, 3);
          assert.match(fork.copiedCheckpoints.at(-1)!, /\/model:2$/);

          // The Q2 figure was wrong: the fork runs with the corrected one; a wrong Q1 would show a repeat.
          await finish(run.worker(fork.taskID, { figures: { Q1: -1, Q2: 250 } }));
          assert.match(await resultText(run, fork.taskID), /report: .*"revenue":100.*"revenue":250/);
          const lookups = (await run.effects()).map((effect) => effect.quarter);
          assert.deepEqual(lookups, killed ? ['Q1', 'Q2'] : ['Q1', 'Q2', 'Q2'], 'the fork ran only the lookup after its fork point');
          // The fork asked only its last model call; it differs from the source's, whose Q2 figure differed.
          assertNoModelRequestRepeated(run.server, requestsBefore + 1);
        }));
    }
  });
}
