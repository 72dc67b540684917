// A durable stream across real crashes: a worker process streams the analyst agent (real `@ai-sdk/openai`
// provider, local model server) and is killed with SIGKILL mid model stream, between steps or inside a tool; a
// second worker resumes the task. A reader live across the crash and a reader after completion both end with the
// stream of an uninterrupted run: the same text and tool calls, once each, and one start and finish; assembled
// as received (as useChat does), both give the same message as an uninterrupted run. On Postgres
// the live reader is in this process; an on-disk PGlite directory has one owner, so there the reader runs in
// whichever worker owns it and relays its chunks here, and a reconnect continues from the chunks received.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { Absurd } from '../../src/client/absurd.ts';
import { discardSupersededChunks, isSupersededMarker } from '../../src/streams/superseded-marker.ts';
import { analystScenario } from '../support/analyst-scenario.ts';
import { crashBackends, createSharedDatabase, type CrashBackend, type SharedDatabase } from '../support/crash-databases.ts';
import { startOpenAICompatibleServer, type InjectedFault } from '../support/openai-compatible-server.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import type { ModelScript } from '../support/openai-wire-format.ts';
import type { StreamWorkerOptions } from './stream-worker.ts';

const streamWorker = new URL('./stream-worker.ts', import.meta.url);
const claimTimeout = 2;
const reportLength = 1_500;
const expectedReport = 'Report for Q1, Q3. Revenue: {"quarter":"Q1","revenue":1000}; {"quarter":"Q3","revenue":3000}. Note recorded.';

interface Scenario {
  readonly name: string;
  readonly worker?: Pick<StreamWorkerOptions, 'hangAfterCheckpoint' | 'hangInTool'>;
  readonly stall?: InjectedFault;
  /** The re-run of the stalled answer says something else, as a real model would. */
  readonly rerunDiffers?: boolean;
  /** What the live reader must have received before the kill. */
  readonly seenBeforeKill: (chunks: readonly UIMessageChunk[]) => boolean;
}

const isFinalCall = (conversation: { toolCalls: ReadonlyArray<{ toolName: string }> }) =>
  conversation.toolCalls.some((call) => call.toolName === 'recordNote');

const scenarios: Scenario[] = [
  {
    name: 'killed mid model stream, with part of the answer delivered',
    stall: { kind: 'stall', afterEvents: 30, match: isFinalCall },
    seenBeforeKill: (chunks) => chunks.some((chunk) => chunk.type === 'text-delta'),
  },
  {
    name: 'killed mid model stream, and the re-run step answers differently: the lost step is superseded',
    stall: { kind: 'stall', afterEvents: 30, match: isFinalCall },
    rerunDiffers: true,
    seenBeforeKill: (chunks) => chunks.some((chunk) => chunk.type === 'text-delta'),
  },
  {
    name: 'killed between steps, right after the first model response is checkpointed',
    worker: { hangAfterCheckpoint: '/model:1$' },
    seenBeforeKill: (chunks) => chunks.some((chunk) => chunk.type === 'tool-input-available'),
  },
  {
    name: 'killed inside a tool of the second step',
    worker: { hangInTool: 'recordNote' },
    seenBeforeKill: (chunks) =>
      chunks.some((chunk) => chunk.type === 'tool-input-available' && chunk.toolName === 'recordNote'),
  },
];

const { backends, postgresSkipReason } = await crashBackends();

for (const backend of ['pglite', 'postgres'] as const satisfies readonly CrashBackend[]) {
  const skip = backends.includes(backend) ? false : postgresSkipReason;
  describe(`durable stream across crashes on ${backend === 'pglite' ? 'on-disk PGlite' : 'Postgres'}`, { skip }, () => {
    let uninterrupted: { types: string[]; text: string } | undefined;
    let uninterruptedMessage: MessageShape | undefined;

    test('an uninterrupted run: one start and finish, the whole report', async () => {
      const run = await runScenario(backend, undefined);
      assert.equal(run.outcome.state, 'completed');
      uninterrupted = describeStream(run.live);
      uninterruptedMessage = messageShape((await assemble(run.live)).message);
      assert.ok(uninterrupted.text.startsWith(expectedReport));
      assert.deepEqual(describeStream(run.late), uninterrupted);
      assert.deepEqual(messageShape((await assemble(run.late)).message), uninterruptedMessage);
    });

    for (const scenario of scenarios) {
      test(scenario.name, async () => {
        const run = await runScenario(backend, scenario);
        assert.equal(run.outcome.state, 'completed', JSON.stringify(run.outcome));
        const live = discardSupersededChunks(run.live);
        const late = discardSupersededChunks(run.late);
        assert.deepEqual(late, live, 'the live and the late reader disagree');
        const expected = uninterrupted ?? describeStream((await runScenario(backend, undefined)).live);
        if (scenario.rerunDiffers) {
          assert.ok(run.live.some(isSupersededMarker), 'the live reader got no superseded marker');
          assert.ok(run.outcome.text?.startsWith(`Revised. ${expectedReport}`));
          assert.deepEqual(describeStream(run.live), { ...expected, text: run.outcome.text });
        } else {
          assert.deepEqual(describeStream(run.live), expected);
        }
        assert.equal((await assemble(live)).text, run.outcome.text);
        assert.equal(run.live.at(-1)?.type, 'finish');
        // Assembled as received, the way useChat does (no discarding): the live reader across the crash ends
        // with exactly the late reader's message, and with the message of an uninterrupted run.
        const liveMessage = await assemble(run.live);
        const lateMessage = await assemble(run.late);
        assert.deepEqual(liveMessage.message?.parts, lateMessage.message?.parts, 'the live and the late message differ');
        assert.equal(liveMessage.text, run.outcome.text);
        const expectedMessage = uninterruptedMessage ?? messageShape((await assemble((await runScenario(backend, undefined)).live)).message);
        assert.deepEqual(messageShape(liveMessage.message), { ...expectedMessage, text: run.outcome.text });
      });
    }

    test('a task that fails ends a live reader with an error chunk', async () => {
      const run = await runScenario(backend, undefined, { failAfterStream: true });
      assert.equal(run.outcome.state, 'failed');
      const last = run.live.at(-1);
      assert.equal(last?.type, 'error');
      assert.match((last as { errorText: string }).errorText, /could not be filed/);
      assert.equal(run.late.at(-1)?.type, 'error');
    });
  });
}

interface ScenarioRun {
  /** What the reader live across the crash received, in order. */
  readonly live: UIMessageChunk[];
  /** What a reader starting after the task ended received. */
  readonly late: UIMessageChunk[];
  readonly outcome: { state: string | undefined; text?: string };
}

async function runScenario(backend: CrashBackend, scenario: Scenario | undefined, extra: Partial<StreamWorkerOptions> = {}): Promise<ScenarioRun> {
  const script = scenario?.rerunDiffers ? revisedOnRerun(analystScenario({ reportLength })) : analystScenario({ reportLength });
  const server = await startOpenAICompatibleServer({ script, faults: scenario?.stall ? [scenario.stall] : [] });
  const database = await createSharedDatabase(backend);
  const queue = uniqueQueueName('stream');
  const workers: WorkerProcess[] = [];
  let reader: Absurd | undefined;
  try {
    const taskID = await spawnTask(database, queue, extra.failAfterStream ? 1 : 5);
    const options: StreamWorkerOptions = { url: database.url, queue, taskID, modelBaseURL: server.baseURL, claimTimeout, ...extra };
    // On Postgres the reader is here and follows the task across both workers; on PGlite a worker relays.
    const live: UIMessageChunk[] = [];
    let liveReading: Promise<void> | undefined;
    const relayed = backend === 'pglite';
    if (!relayed) {
      reader = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
      const stream = reader.readStream(taskID, { pollIntervalMs: 200 });
      liveReading = (async () => {
        for await (const chunk of stream as unknown as AsyncIterable<UIMessageChunk>) live.push(chunk);
      })();
      liveReading.catch(() => {});
    }
    const relayedChunks = (worker: WorkerProcess) =>
      worker.signals.filter((signal) => signal.signal === 'stream-chunk').map((signal) => signal.chunk as UIMessageChunk);

    let second: WorkerProcess;
    if (scenario) {
      const first = startWorkerProcess(streamWorker, { options: { ...options, ...scenario.worker, ...(relayed ? { relayFrom: 0 } : {}) } });
      workers.push(first);
      if (scenario.stall) await server.waitForRequest((request) => request.outcome === 'stalled', { timeoutMs: 60_000 });
      else await first.waitForSignal('hanging');
      await until(() => scenario.seenBeforeKill(relayed ? relayedChunks(first) : live), `the reader saw nothing before the kill:\n${first.output()}`);
      assert.equal((await first.kill()).signal, 'SIGKILL');
      if (relayed) live.push(...relayedChunks(first));
      second = startWorkerProcess(streamWorker, { options: { ...options, ...(relayed ? { relayFrom: live.length } : {}) } });
    } else {
      second = startWorkerProcess(streamWorker, { options: { ...options, ...(relayed ? { relayFrom: 0 } : {}) } });
    }
    workers.push(second);
    await second.waitForSignal('task-finished', { timeoutMs: 90_000 });
    assert.equal((await second.exited).code, 0, second.output());
    if (relayed) live.push(...relayedChunks(second));
    else await bounded(liveReading!, 30_000, 'the live reader did not end');
    await reader?.close();
    reader = undefined;

    const late = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
    try {
      const chunks: UIMessageChunk[] = [];
      const stream = late.readStream(taskID);
      await bounded(
        (async () => {
          for await (const chunk of stream as unknown as AsyncIterable<UIMessageChunk>) chunks.push(chunk);
        })(),
        30_000,
        'the late reader did not end',
      );
      const snapshot = await late.fetchTaskResult(taskID);
      const text = snapshot?.state === 'completed' ? (snapshot.result as { text: string }).text : undefined;
      return { live, late: chunks, outcome: { state: snapshot?.state, ...(text === undefined ? {} : { text }) } };
    } finally {
      await late.close();
    }
  } finally {
    await reader?.close();
    await Promise.all(workers.map((worker) => worker.kill()));
    await server.close();
    await database.remove();
  }
}

/** The final report, asked a second time, comes back revised. */
function revisedOnRerun(script: ModelScript): ModelScript {
  let finalCalls = 0;
  return (conversation) => {
    const reply = script(conversation);
    if (!isFinalCall(conversation) || finalCalls++ === 0 || reply.text === undefined) return reply;
    return { ...reply, text: `Revised. ${reply.text}` };
  };
}

async function spawnTask(database: SharedDatabase, queue: string, maxAttempts: number): Promise<string> {
  // This process lets go of the database before a worker opens it (a PGlite directory has one owner).
  const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
  try {
    await absurd.createQueue();
    const { taskID } = await absurd.spawn('analyse', { prompt: 'Compare revenue for Q1 and Q3.' }, { queue, maxAttempts });
    return taskID;
  } finally {
    await absurd.close();
  }
}

/** What must not differ from an uninterrupted run: the chunk types in order, and the text. */
function describeStream(chunks: UIMessageChunk[]): { types: string[]; text: string } {
  const kept = discardSupersededChunks(chunks);
  const text = kept.flatMap((chunk) => (chunk.type === 'text-delta' ? [chunk.delta] : [])).join('');
  // Deltas are cut where the model's events were cut; their count is not the stream's shape.
  const types = kept.map((chunk) => chunk.type).filter((type, i, all) => type !== 'text-delta' || all[i - 1] !== 'text-delta');
  return { types, text };
}

/** What a message must have in common with an uninterrupted run's: its parts in order, tool calls in full. */
interface MessageShape {
  readonly parts: unknown[];
  readonly text: string | undefined;
}

function messageShape(message: UIMessage | undefined): MessageShape {
  const parts = (message?.parts ?? []).map((part) => {
    if (part.type === 'text') return { type: part.type, state: part.state };
    if (part.type.startsWith('tool-')) {
      const { type, state, input, output } = part as { type: string; state: string; input: unknown; output: unknown };
      return { type, state, input, output };
    }
    return { type: part.type };
  });
  const text = (message?.parts ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  return { parts, text };
}

async function assemble(chunks: UIMessageChunk[]): Promise<{ text: string; message: UIMessage | undefined }> {
  let message: UIMessage | undefined;
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  for await (const update of readUIMessageStream({ stream })) message = update;
  const text = (message?.parts ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  return { text, message };
}

async function until(condition: () => boolean, failure: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function bounded<T>(promise: Promise<T>, timeoutMs: number, failure: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(failure)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
