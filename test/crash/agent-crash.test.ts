// Real crashes of a durable agent: a worker process runs the analyst task against the real `@ai-sdk/openai`
// provider and a local model server, is killed with SIGKILL at a chosen point, and a second worker process
// resumes the task once the lease has expired. No checkpointed model request may be asked again, and every
// completed tool side effect must have happened exactly once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Absurd } from '../../src/client/absurd.ts';
import { analystScenario } from '../support/analyst-scenario.ts';
import { crashBackends, createSharedDatabase } from '../support/crash-databases.ts';
import type { CrashBackend, SharedDatabase } from '../support/crash-databases.ts';
import { startOpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import type { InjectedFault, OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerProcess } from '../support/worker-process.ts';
import type { AnalystWorkerOptions, HangPoint, ToolSideEffect } from '../fixtures/analyst-worker.ts';

const analystWorker = new URL('../fixtures/analyst-worker.ts', import.meta.url);
const claimTimeout = 2;
const prompt = 'Compare revenue for Q1 and Q3.';
const reportLength = 3_000;
const expectedReport =
  'Report for Q1, Q3. Revenue: {"quarter":"Q1","revenue":1000}; {"quarter":"Q3","revenue":3000}. Note recorded.';

interface CrashScenario {
  readonly name: string;
  readonly api: AnalystWorkerOptions['api'];
  readonly mode: AnalystWorkerOptions['mode'];
  /** The worker stops here and is killed... */
  readonly hang?: HangPoint;
  /** ...or the server stalls this stream and the worker is killed while it waits for the rest. */
  readonly stall?: InjectedFault;
  /** Side effects the first worker completed before it died. */
  readonly effectsBeforeKill: ReadonlyArray<string>;
}

const isFinalCall = (conversation: { toolCalls: ReadonlyArray<{ toolName: string }> }) =>
  conversation.toolCalls.some((call) => call.toolName === 'recordNote');

const scenarios: CrashScenario[] = [
  {
    name: '(a) killed right after the first model response is checkpointed',
    api: 'responses',
    mode: 'generate',
    hang: { at: 'checkpoint', stepName: '/model:1$' },
    effectsBeforeKill: [],
  },
  {
    name: '(b) killed inside a tool while a parallel call has already completed',
    api: 'chat',
    mode: 'generate',
    hang: { at: 'tool', toolName: 'getRevenue', quarter: 'Q3', afterQuarter: 'Q1' },
    effectsBeforeKill: ['getRevenue:Q1'],
  },
  {
    name: '(b) killed inside the tool of the second model response',
    api: 'responses',
    mode: 'stream',
    hang: { at: 'tool', toolName: 'recordNote' },
    effectsBeforeKill: ['getRevenue:Q1', 'getRevenue:Q3'],
  },
  {
    name: '(c) killed mid-stream while the final answer is arriving',
    api: 'chat',
    mode: 'stream',
    stall: { kind: 'stall', afterEvents: 40, match: isFinalCall },
    effectsBeforeKill: ['getRevenue:Q1', 'getRevenue:Q3', 'recordNote'],
  },
];

const { backends, postgresSkipReason } = await crashBackends();

for (const backend of ['pglite', 'postgres'] as const satisfies readonly CrashBackend[]) {
  const skip = backends.includes(backend) ? false : postgresSkipReason;
  describe(`crash and resume on ${backend === 'pglite' ? 'on-disk PGlite' : 'Postgres'}`, { skip }, () => {
    for (const scenario of scenarios) {
      test(`${scenario.name} (${scenario.api}, ${scenario.mode})`, () => runCrashScenario(backend, scenario));
    }
  });
}

async function runCrashScenario(backend: CrashBackend, scenario: CrashScenario): Promise<void> {
  const server = await startOpenAICompatibleServer({
    script: analystScenario({ reportLength }),
    faults: scenario.stall ? [scenario.stall] : [],
  });
  const database = await createSharedDatabase(backend);
  const queue = uniqueQueueName('crash');
  // Side effects are recorded outside the database, where a crash cannot roll them back.
  const scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-effects-'));
  const effectsFile = join(scratch, 'effects.jsonl');
  const workers: WorkerProcess[] = [];
  try {
    const taskID = await spawnAnalysis(database, queue);
    const options: AnalystWorkerOptions = {
      url: database.url,
      queue,
      taskID,
      modelBaseURL: server.baseURL,
      api: scenario.api,
      mode: scenario.mode,
      effectsFile,
      claimTimeout,
    };

    // First worker: runs to the kill point and dies there.
    const first = startWorkerProcess(analystWorker, { options: { ...options, hang: scenario.hang } });
    workers.push(first);
    if (scenario.stall) {
      await untilStreamStalls(server, first);
      await first.waitForSignal('streaming-text');
    } else {
      await first.waitForSignal('hanging');
    }
    assert.equal((await first.kill()).signal, 'SIGKILL');
    const requestsBeforeKill = server.requests.length;
    const effectsBeforeKill = (await readSideEffects(effectsFile)).map(describeEffect).sort();
    assert.deepEqual(effectsBeforeKill, scenario.effectsBeforeKill, 'side effects at the kill point');
    const firstCheckpoints = checkpointsOf(first);
    if (scenario.hang?.at === 'checkpoint') {
      assert.equal(firstCheckpoints.length, 1, firstCheckpoints.join(', '));
      assert.match(firstCheckpoints[0] ?? '', /\/model:1$/);
    }

    // Second worker: claims the task once the lease has expired and runs it to the end.
    const second = startWorkerProcess(analystWorker, { options });
    workers.push(second);
    const finished = await second.waitForSignal('task-finished', { timeoutMs: 90_000 });
    assert.equal((await second.exited).code, 0, second.output());

    const outcome = await readTaskOutcome(database, queue, taskID);
    assert.equal(finished.state, 'completed', `task ended ${finished.state}: ${JSON.stringify(outcome.failure)}`);
    assert.equal(outcome.state, 'completed');
    const result = outcome.result as { text: string; steps: number };
    assert.ok(result.text.startsWith(expectedReport), result.text.slice(0, 200));
    assert.ok(result.text.length >= reportLength);
    assert.equal(result.steps, 3);
    assert.ok(outcome.runs >= 2, 'the task finished without being resumed by a new run');

    // The model: each question answered once. Only the stream cut off by the kill was asked again.
    assert.deepEqual(
      server.repeatedRequests().map((request) => request.index),
      [],
      'a delivered model response was requested again',
    );
    assert.equal(server.completedRequests().length, 3);
    assert.equal(server.requests.length, scenario.stall ? 4 : 3);
    const answeredBeforeKill = new Set(
      server.requests
        .slice(0, requestsBeforeKill)
        .filter((request) => request.outcome === 'completed')
        .map((request) => request.conversation.messagesKey),
    );
    const resumedRequests = server.requests.slice(requestsBeforeKill);
    for (const request of resumedRequests) assert.ok(!answeredBeforeKill.has(request.conversation.messagesKey));
    if (scenario.stall) {
      const stalledKey = server.requests.find((request) => request.outcome === 'stalled')?.conversation.messagesKey;
      assert.ok(resumedRequests.some((request) => request.conversation.messagesKey === stalledKey));
    }

    // Tools: every side effect exactly once, none repeated by the second worker.
    const effects = await readSideEffects(effectsFile);
    assert.deepEqual(effects.map(describeEffect).sort(), ['getRevenue:Q1', 'getRevenue:Q3', 'recordNote']);
    assert.equal(new Set(effects.map((effect) => effect.toolCallId)).size, effects.length);

    // The second worker wrote only what the first had not: no checkpoint was written twice.
    assert.deepEqual(
      checkpointsOf(second).filter((name) => firstCheckpoints.includes(name)),
      [],
    );
    const names = outcome.checkpointNames;
    assert.equal(names.filter((name) => /\/model:\d+$/.test(name)).length, 3, names.join(', '));
    assert.equal(names.filter((name) => /\/tool:/.test(name)).length, 3, names.join(', '));
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
    await server.close();
    await database.remove();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Waits until the server holds a stream open for the worker, failing fast if the worker dies first. */
async function untilStreamStalls(server: OpenAICompatibleServer, worker: WorkerProcess): Promise<void> {
  const stalled = server
    .waitForRequest((request) => request.outcome === 'stalled', { timeoutMs: 60_000 })
    .then(() => 'stalled');
  stalled.catch(() => {});
  const winner = await Promise.race([stalled, worker.exited.then(() => 'exited')]);
  if (winner === 'exited') throw new Error(`The worker exited before its stream stalled:\n${worker.output()}`);
}

async function spawnAnalysis(database: SharedDatabase, queue: string): Promise<string> {
  // This process lets go of the database before any worker opens it (a PGlite directory has one owner).
  const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
  try {
    await absurd.createQueue();
    const { taskID } = await absurd.spawn('analyse', { prompt }, { queue, maxAttempts: 5 });
    return taskID;
  } finally {
    await absurd.close();
  }
}

async function readTaskOutcome(database: SharedDatabase, queue: string, taskID: string) {
  const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
  try {
    const snapshot = await absurd.fetchTaskResult(taskID);
    const table = (prefix: string) => `absurd.${quoteIdentifier(`${prefix}_${queue}`)}`;
    const checkpoints = await absurd.database.query<{ checkpoint_name: string }>(
      `select checkpoint_name from ${table('c')} where task_id = $1 order by checkpoint_name`,
      [taskID],
    );
    const runs = await absurd.database.query<{ count: number }>(
      `select count(*)::int as count from ${table('r')} where task_id = $1`,
      [taskID],
    );
    return {
      state: snapshot?.state,
      result: snapshot?.state === 'completed' ? snapshot.result : undefined,
      failure: snapshot?.state === 'failed' ? snapshot.failure : undefined,
      checkpointNames: checkpoints.rows.map((row) => row.checkpoint_name),
      runs: runs.rows[0]?.count ?? 0,
    };
  } finally {
    await absurd.close();
  }
}

async function readSideEffects(file: string): Promise<ToolSideEffect[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ToolSideEffect);
}

function describeEffect(effect: ToolSideEffect): string {
  const input = effect.input as { quarter?: string };
  return effect.toolName === 'getRevenue' ? `getRevenue:${input.quarter}` : effect.toolName;
}

function checkpointsOf(worker: WorkerProcess): string[] {
  return worker.signals.filter((signal) => signal.signal === 'checkpoint').map((signal) => String(signal.stepName));
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
