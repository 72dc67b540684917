// What publishing `agent.stream()` to the durable stream costs, side by side in one run, on PGlite and on
// Postgres: statements and stored bytes per 1,000 chunks of a fast stream from an instant model; the time of
// the same task with and without publishing (both read `toUIMessageStream()` as a plain consumer would);
// and the latency from the model's first text delta in the worker to a reader of the stream (on Postgres a
// reader on its own connections, woken by NOTIFY; on PGlite a reader in the same process); and 100 concurrent
// readers of one task in one process: the LISTEN connections they hold (counted in pg_stat_activity) and the
// latency from the model's first text delta to each of them.
//
//   node bench/stream.bench.ts [--quick]
import { pathToFileURL } from 'node:url';
import type { LanguageModelV4, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { UIMessageChunk } from 'ai';
import pg from 'pg';
import { AbsurdAgent } from '../src/agent/absurd-agent.ts';
import { Absurd } from '../src/client/absurd.ts';
import type { Database } from '../src/db/database.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { migrate } from '../src/schema/migrate.ts';
import { benchmarkServerUrl, createScratchDatabase, type ScratchDatabase } from './peers/scratch-database.ts';
import { median, percentile, round } from './peers/statistics.ts';

export interface StreamBenchmarkOptions {
  databaseUrl?: string;
  backends?: Array<'pglite' | 'postgres'>;
  /** Text deltas of the fast stream (default 2,000). */
  deltas?: number;
  rounds?: number;
  warmupRounds?: number;
  latencySamples?: number;
  /** Readers of one task in one process (default 100), and how many tasks they read in turn (default 5). */
  concurrentReaders?: number;
  concurrentReaderTasks?: number;
  print?: boolean;
}

export interface StreamBenchmarkRow {
  backend: 'pglite' | 'postgres';
  /** Chunks the fast stream publishes (its deltas and framing). */
  chunks: number;
  statementsPer1000Chunks: number;
  storedBytesPer1000Chunks: number;
  chunksPerCommit: number;
  /** Median of the task without publishing, and with, in milliseconds. */
  plainRunP50Ms: number;
  publishedRunP50Ms: number;
  /** Median over rounds of (published − plain) / plain, in percent. */
  overheadP50Percent: number;
  firstChunkLatencyP50Ms: number;
  firstChunkLatencyP99Ms: number;
  latencySamples: number;
  concurrentReaders: number;
  /** LISTEN connections held while the concurrent readers read (Postgres; PGlite notifies in process). */
  concurrentReaderListenConnections: number | null;
  concurrentReaderLatencyP50Ms: number;
  concurrentReaderLatencyP99Ms: number;
  /** First text deltas timed: readers × tasks. */
  concurrentReaderSamples: number;
}

export interface StreamBenchmarkResult {
  rounds: number;
  rows: StreamBenchmarkRow[];
}

/** An instant model: one step of `deltas` text deltas; it notes when its first delta leaves. */
function instantModel(deltas: number, onFirstDelta: () => void): LanguageModelV4 {
  const parts: LanguageModelV4StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'response-metadata', id: 'bench', modelId: 'instant', timestamp: new Date(0) },
    { type: 'text-start', id: 't' },
    ...Array.from({ length: deltas }, (_, i): LanguageModelV4StreamPart => ({ type: 'text-delta', id: 't', delta: `word${i} ` })),
    { type: 'text-end', id: 't' },
    {
      type: 'finish',
      finishReason: { unified: 'stop', raw: undefined },
      usage: {
        inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: deltas, text: deltas, reasoning: 0 },
      },
    },
  ];
  return {
    specificationVersion: 'v4',
    provider: 'bench',
    modelId: 'instant',
    supportedUrls: {},
    doGenerate: async () => {
      throw new Error('The instant benchmark model only streams.');
    },
    doStream: async () => ({
      stream: new ReadableStream({
        start(controller) {
          for (const part of parts) {
            if (part.type === 'text-delta' && part.delta === 'word0 ') onFirstDelta();
            controller.enqueue(part);
          }
          controller.close();
        },
      }),
    }),
  } as LanguageModelV4;
}

/** A database that counts the statements appending stream chunks. */
function countingAppends(database: Database): Database & { appends: number } {
  const counted = {
    ...database,
    appends: 0,
    async query(text: string, params?: unknown[]) {
      if (text.includes('append_stream_chunks(')) counted.appends += 1;
      return database.query(text, params);
    },
  };
  return counted as Database & { appends: number };
}

class StreamRunner {
  readonly absurd: Absurd;
  readonly database: Database & { appends: number };
  private last: number | undefined;
  firstDeltaAt = 0;

  constructor(database: Database, queueName: string, deltas: number) {
    this.database = countingAppends(database);
    this.absurd = new Absurd({ db: this.database, queueName });
    const fast = new AbsurdAgent({ model: instantModel(deltas, () => {}) }, this.absurd, { name: 'fast' });
    const short = new AbsurdAgent({ model: instantModel(20, () => (this.firstDeltaAt = performance.now())) }, this.absurd, { name: 'short' });
    this.absurd.registerTask({ name: 'stream-bench' }, async (params: { publish: boolean; short?: boolean }) => {
      const started = performance.now();
      const result = await (params.short ? short : fast).stream({ prompt: 'go', durableStream: params.publish });
      let chunks = 0;
      for await (const _chunk of result.toUIMessageStream()) chunks += 1;
      await result.text;
      this.last = performance.now() - started;
      return { chunks };
    });
  }

  async run(publish: boolean): Promise<{ ms: number; taskID: string; appends: number }> {
    this.last = undefined;
    const { taskID } = await this.absurd.spawn('stream-bench', { publish });
    const appendsBefore = this.database.appends;
    await this.absurd.workBatch('stream-bench', 60, 1);
    if (this.last === undefined) throw new Error(`stream benchmark task ${taskID} did not run: ${JSON.stringify(await this.absurd.fetchTaskResult(taskID))}`);
    return { ms: this.last, taskID, appends: this.database.appends - appendsBefore };
  }

  /** Spawns a short published stream and times its first text delta from the model to `reader`. */
  async latency(reader: Absurd): Promise<number> {
    const { taskID } = await this.absurd.spawn('stream-bench', { publish: true, short: true });
    const chunks = reader.readStream(taskID, { pollIntervalMs: 1_000 });
    const iterator = (chunks as unknown as AsyncIterable<UIMessageChunk>)[Symbol.asyncIterator]();
    const firstDelta = (async () => {
      for (;;) {
        const { done, value } = await iterator.next();
        if (done) throw new Error(`the stream of ${taskID} ended without a text delta`);
        if (value.type === 'text-delta') return performance.now();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await this.absurd.workBatch('stream-bench', 60, 1);
    const receivedAt = await firstDelta;
    await iterator.return?.();
    return receivedAt - this.firstDeltaAt;
  }

  /**
   * Opens `count` readers of one new published task in the reader's process, then runs the task; resolves
   * with the latency from the model's first text delta to each reader, and the LISTEN connections open
   * meanwhile (counted in pg_stat_activity on Postgres).
   */
  async concurrentReaders(reader: Absurd, count: number, postgres: boolean): Promise<{ latencies: number[]; listenConnections: number | null }> {
    const { taskID } = await this.absurd.spawn('stream-bench', { publish: true, short: true });
    const iterators = Array.from({ length: count }, () =>
      (reader.readStream(taskID, { pollIntervalMs: 1_000 }) as unknown as AsyncIterable<UIMessageChunk>)[Symbol.asyncIterator](),
    );
    const received = iterators.map(async (iterator) => {
      for (;;) {
        const { done, value } = await iterator.next();
        if (done) throw new Error(`the stream of ${taskID} ended without a text delta`);
        if (value.type === 'text-delta') return performance.now();
      }
    });
    try {
      // Every reader is subscribed (and the shared LISTEN connection open) before the task runs.
      if (postgres) await this.listenConnections(1);
      await this.absurd.workBatch('stream-bench', 60, 1);
      const times = await Promise.all(received);
      // Counted once every reader received its chunk, while all of them still read.
      const listenConnections = postgres ? await this.listenConnections(0) : null;
      return { latencies: times.map((at) => at - this.firstDeltaAt), listenConnections };
    } finally {
      await Promise.all(iterators.map((iterator) => iterator.return?.()));
    }
  }

  /** The connections of this database whose last statement was the LISTEN of the stream channel, once at least `atLeast`. */
  private async listenConnections(atLeast: number): Promise<number> {
    const deadline = performance.now() + 5_000;
    for (;;) {
      const { rows } = await this.absurd.database.query<{ listening: number }>(
        `select count(*)::int as listening from pg_stat_activity
         where datname = current_database() and query = 'listen "absurd_stream"'`,
      );
      const listening = rows[0]!.listening;
      if (listening >= atLeast || performance.now() > deadline) return listening;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stored(taskID: string): Promise<{ chunks: number; bytes: number }> {
    const { rows } = await this.absurd.database.query<{ chunks: number; bytes: number }>(
      `select (select count(*)::int from ai_sdk_absurd.stream_chunks s where s.task_id = $1) as chunks,
              (select coalesce(sum(pg_column_size(b.*)), 0)::int from ai_sdk_absurd.stream_batches b where b.task_id = $1) as bytes`,
      [taskID],
    );
    return rows[0]!;
  }
}

export async function runStreamBenchmarks(options: StreamBenchmarkOptions = {}): Promise<StreamBenchmarkResult> {
  const deltas = options.deltas ?? 2_000;
  const rounds = options.rounds ?? 15;
  const warmupRounds = options.warmupRounds ?? 3;
  const latencySamples = options.latencySamples ?? 100;
  const concurrentReaders = options.concurrentReaders ?? 100;
  const concurrentReaderTasks = options.concurrentReaderTasks ?? 5;
  const backends = options.backends ?? ['pglite', 'postgres'];
  let scratch: ScratchDatabase | undefined;
  const opened: Database[] = [];
  const runners = new Map<'pglite' | 'postgres', { runner: StreamRunner; reader: Absurd }>();
  try {
    if (backends.includes('pglite')) {
      const { database } = openDatabase('pglite:memory');
      opened.push(database);
      const runner = new StreamRunner(database, 'stream_bench', deltas);
      runners.set('pglite', { runner, reader: new Absurd({ db: database, queueName: 'stream_bench' }) });
    }
    if (backends.includes('postgres')) {
      scratch = await createScratchDatabase(benchmarkServerUrl(options.databaseUrl), 'ai_sdk_absurd_bench_stream');
      const pool = new pg.Pool({ connectionString: scratch.url, max: 1 });
      await migrate(pool).finally(() => pool.end());
      const { database } = openDatabase(scratch.url);
      opened.push(database);
      const runner = new StreamRunner(database, 'stream_bench', deltas);
      // The reader has its own pool, as a web process would.
      runners.set('postgres', { runner, reader: new Absurd({ db: scratch.url, queueName: 'stream_bench' }) });
    }
    for (const { runner } of runners.values()) await runner.absurd.createQueue();

    const rows: StreamBenchmarkRow[] = [];
    for (const [backend, { runner, reader }] of runners) {
      const plain: number[] = [];
      const published: number[] = [];
      const overhead: number[] = [];
      let cost = { appends: 0, chunks: 0, bytes: 0 };
      for (let index = 0; index < warmupRounds + rounds; index++) {
        // Interleaved, alternating which goes first, so drift in the machine hits both alike.
        const publishFirst = index % 2 === 0;
        const first = await runner.run(publishFirst);
        const second = await runner.run(!publishFirst);
        const withPublishing = publishFirst ? first : second;
        const without = publishFirst ? second : first;
        if (index < warmupRounds) continue;
        plain.push(without.ms);
        published.push(withPublishing.ms);
        overhead.push(((withPublishing.ms - without.ms) / without.ms) * 100);
        if (index === warmupRounds) cost = { appends: withPublishing.appends, ...(await runner.stored(withPublishing.taskID)) };
      }
      const latencies: number[] = [];
      for (let sample = 0; sample < latencySamples; sample++) latencies.push(await runner.latency(reader));
      const sharedLatencies: number[] = [];
      let listenConnections: number | null = null;
      for (let task = 0; task < concurrentReaderTasks; task++) {
        const shared = await runner.concurrentReaders(reader, concurrentReaders, backend === 'postgres');
        sharedLatencies.push(...shared.latencies);
        listenConnections = shared.listenConnections === null ? null : Math.max(listenConnections ?? 0, shared.listenConnections);
      }
      rows.push({
        backend,
        chunks: cost.chunks,
        statementsPer1000Chunks: round((cost.appends / cost.chunks) * 1_000),
        storedBytesPer1000Chunks: Math.round((cost.bytes / cost.chunks) * 1_000),
        chunksPerCommit: round(cost.chunks / cost.appends),
        plainRunP50Ms: round(median(plain)),
        publishedRunP50Ms: round(median(published)),
        overheadP50Percent: round(median(overhead)),
        firstChunkLatencyP50Ms: round(median(latencies)),
        firstChunkLatencyP99Ms: round(percentile(latencies, 0.99)),
        latencySamples,
        concurrentReaders,
        concurrentReaderListenConnections: listenConnections,
        concurrentReaderLatencyP50Ms: round(median(sharedLatencies)),
        concurrentReaderLatencyP99Ms: round(percentile(sharedLatencies, 0.99)),
        concurrentReaderSamples: sharedLatencies.length,
      });
      await reader.close();
    }
    const result = { rounds, rows };
    if (options.print !== false) printStreamBenchmarks(result);
    return result;
  } finally {
    for (const { runner } of runners.values()) await runner.absurd.close();
    for (const database of opened) await database.close();
    await scratch?.drop();
  }
}

function printStreamBenchmarks(result: StreamBenchmarkResult): void {
  console.log(`Durable stream publishing (${result.rounds} interleaved rounds; fast stream from an instant model)`);
  console.table(
    result.rows.map((row) => ({
      backend: row.backend,
      chunks: row.chunks,
      'statements / 1000 chunks': row.statementsPer1000Chunks,
      'bytes / 1000 chunks': row.storedBytesPer1000Chunks,
      'chunks / commit': row.chunksPerCommit,
      'plain run p50 ms': row.plainRunP50Ms,
      'published run p50 ms': row.publishedRunP50Ms,
      'overhead p50 %': row.overheadP50Percent,
      'first chunk p50 ms': row.firstChunkLatencyP50Ms,
      'first chunk p99 ms': row.firstChunkLatencyP99Ms,
    })),
  );
  console.log('Concurrent readers of one task in one process');
  console.table(
    result.rows.map((row) => ({
      backend: row.backend,
      readers: row.concurrentReaders,
      'LISTEN connections': row.concurrentReaderListenConnections ?? 'in process',
      'first chunk p50 ms': row.concurrentReaderLatencyP50Ms,
      'first chunk p99 ms': row.concurrentReaderLatencyP99Ms,
      samples: row.concurrentReaderSamples,
    })),
  );
  console.log(JSON.stringify(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  await runStreamBenchmarks(quick ? { rounds: 6, warmupRounds: 2, latencySamples: 40, concurrentReaderTasks: 2 } : {});
}
