// How fast a parent resumes once its sub-agent child finished: the child's completion commits, the database
// emits the parent's event in that transaction and wakes it, an idle worker claims it, replays its first
// model call from the checkpoint and asks the model again. Measured from the child's complete_run returning
// to the parent's next model request, on Postgres and on PGlite, with mock models (no model latency).
// And, with `forwardStream`, how far behind the child's own stream its forwarded parts reach the parent's
// stream: from a child chunk being stored to the `data-sub-agent` part carrying it being stored.
//
//   node bench/multi-agent.bench.ts [--samples 40]
import { MockLanguageModelV4 } from 'ai/test';
import { AbsurdAgent } from '../src/agent/absurd-agent.ts';
import { Absurd } from '../src/client/absurd.ts';
import type { Database } from '../src/db/database.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { migrate } from '../src/schema/migrate.ts';
import { subAgentTool, type SubAgentToolResult } from '../src/tools/sub-agent-tool.ts';
import type { Tool } from 'ai';
import { PGlite } from '@electric-sql/pglite';
import { benchmarkServerUrl, createScratchDatabase } from './peers/scratch-database.ts';
import { median, percentile, round } from './peers/statistics.ts';

export interface ResumeLatency {
  readonly backend: 'postgres' | 'pglite';
  readonly samples: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly maxMs: number;
}

export interface ForwardingLag {
  readonly backend: 'postgres' | 'pglite';
  /** Forwarded parts measured, and child chunks they carried. */
  readonly parts: number;
  readonly chunks: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly maxMs: number;
}

export interface MultiAgentBenchmarkResult {
  readonly childToParentResume: readonly ResumeLatency[];
  readonly streamForwarding: readonly ForwardingLag[];
}

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

function textReply(text: string) {
  return { content: [{ type: 'text' as const, text }], finishReason: { unified: 'stop' as const, raw: undefined }, usage, warnings: [] };
}

/** A database wrapper that notes when each complete_run call returned. */
function timedCompletions(database: Database, completedAt: number[]): Database {
  return {
    ...database,
    async query(text, params) {
      const result = await database.query(text, params);
      if (text.includes('absurd.complete_run(')) completedAt.push(performance.now());
      return result;
    },
  };
}

/** The `lead` task: its agent calls `research` once, then answers; `onResumed` runs when it reads the tool's result. */
function registerLead(absurd: Absurd, research: Tool<{ prompt: string }, SubAgentToolResult>, onResumed: () => void = () => {}): void {
  const model = new MockLanguageModelV4({
    doGenerate: async (options) => {
      if (options.prompt.some((message) => message.role === 'tool')) {
        onResumed();
        return textReply('done');
      }
      return {
        content: [{ type: 'tool-call' as const, toolCallId: 'call-1', toolName: 'research', input: '{"prompt":"x"}' }],
        finishReason: { unified: 'tool-calls' as const, raw: undefined },
        usage,
        warnings: [],
      };
    },
  });
  const lead = new AbsurdAgent({ id: 'lead', model, tools: { research } }, absurd);
  absurd.registerTask({ name: 'lead' }, async () => ({ text: (await lead.generate({ prompt: 'go' })).text }));
}

async function measure(backend: 'postgres' | 'pglite', db: Database, samples: number): Promise<ResumeLatency> {
  const completedAt: number[] = [];
  const resumedAt: number[] = [];
  const absurd = new Absurd({ db: timedCompletions(db, completedAt), queueName: 'bench_subagents', log: { ...console, log() {}, info() {}, warn() {} } });
  await absurd.createQueue();
  const child = new AbsurdAgent({ id: 'child', model: new MockLanguageModelV4({ doGenerate: async () => textReply('found') }) }, absurd);
  const research = subAgentTool(child, { description: 'Research.' });
  registerLead(absurd, research, () => resumedAt.push(performance.now()));
  const worker = await absurd.startWorker({ concurrency: 2, pollInterval: 1, claimTimeout: 60 });
  const latencies: number[] = [];
  try {
    for (let sample = 0; sample < samples + 3; sample++) {
      completedAt.length = 0;
      resumedAt.length = 0;
      const { taskID } = await absurd.spawn('lead', {});
      await absurd.awaitTaskResult(taskID, { timeout: 30 });
      const resumed = resumedAt[0];
      const childDone = completedAt.filter((time) => resumed !== undefined && time <= resumed).at(-1);
      if (sample >= 3 && resumed !== undefined && childDone !== undefined) latencies.push(resumed - childDone);
    }
  } finally {
    await worker.close();
    await absurd.close();
  }
  return { backend, samples: latencies.length, p50Ms: round(median(latencies)), p90Ms: round(percentile(latencies, 0.9)), maxMs: round(Math.max(...latencies)) };
}

/** A child that streams `deltas` words, `gapMs` apart, as a model writing its answer would. */
function streamingModel(deltas: number, gapMs: number): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    doStream: async () => {
      const parts: unknown[] = [{ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }];
      for (let index = 0; index < deltas; index++) parts.push({ type: 'text-delta', id: 't', delta: `word${index} ` });
      parts.push({ type: 'text-end', id: 't' }, { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage });
      let next = 0;
      return {
        stream: new ReadableStream({
          async pull(controller) {
            if (next > 1) await new Promise((resolve) => setTimeout(resolve, gapMs));
            if (next < parts.length) controller.enqueue(parts[next++] as never);
            else controller.close();
          },
        }),
      };
    },
  });
}

async function measureForwarding(backend: 'postgres' | 'pglite', db: Database, runs: number): Promise<ForwardingLag> {
  const absurd = new Absurd({ db, queueName: 'bench_forwarding', log: { ...console, log() {}, info() {}, warn() {} } });
  await absurd.createQueue();
  const child = new AbsurdAgent({ id: 'writer', model: streamingModel(60, 5) }, absurd);
  const research = subAgentTool(child, { description: 'Write.', forwardStream: true });
  registerLead(absurd, research);
  const worker = await absurd.startWorker({ concurrency: 2, pollInterval: 1, claimTimeout: 60 });
  try {
    for (let run = 0; run < runs; run++) await absurd.awaitTaskResult((await absurd.spawn('lead', {})).taskID, { timeout: 60 });
  } finally {
    await worker.close();
  }
  // Each running part, against the last child chunk it carries: both stored with the database's clock.
  const { rows } = await db.query<{ lag_ms: number; carried: number }>(
    `select extract(epoch from (p.created_at - c.created_at)) * 1000 as lag_ms,
            (p.chunk->'data'->>'toIndex')::integer - (p.chunk->'data'->>'fromIndex')::integer as carried
     from ai_sdk_absurd.stream_chunks p
     join ai_sdk_absurd.stream_chunks c on c.queue_name = p.queue_name and c.task_id = (p.chunk->>'id')::uuid
       and c.chunk_index = (p.chunk->'data'->>'toIndex')::integer - 1
     where p.queue_name = $1 and p.chunk->>'type' = 'data-sub-agent' and p.chunk->'data'->>'state' = 'running'`,
    [absurd.queue],
  );
  await absurd.close();
  const lags = rows.map((row) => Number(row.lag_ms));
  const chunks = rows.reduce((sum, row) => sum + Number(row.carried), 0);
  return { backend, parts: lags.length, chunks, p50Ms: round(median(lags)), p90Ms: round(percentile(lags, 0.9)), maxMs: round(Math.max(...lags)) };
}

export async function runMultiAgentBenchmarks(options: { databaseUrl?: string; samples?: number } = {}): Promise<MultiAgentBenchmarkResult> {
  const samples = options.samples ?? 40;
  const rows: ResumeLatency[] = [];
  const forwarding: ForwardingLag[] = [];
  const runs = Math.max(3, Math.round(samples / 4));
  const scratch = await createScratchDatabase(benchmarkServerUrl(options.databaseUrl), 'bench_multi_agent');
  try {
    const { database } = openDatabase(scratch.url);
    await migrate(database);
    try {
      rows.push(await measure('postgres', database, samples));
      forwarding.push(await measureForwarding('postgres', database, runs));
    } finally {
      await database.close();
    }
  } finally {
    await scratch.drop();
  }
  const pglite = new PGlite();
  const { database: embedded } = openDatabase(pglite);
  try {
    rows.push(await measure('pglite', embedded, samples));
    forwarding.push(await measureForwarding('pglite', embedded, runs));
  } finally {
    await embedded.close();
  }
  for (const row of rows) {
    console.log(`  child done → parent resumed (${row.backend}): p50 ${row.p50Ms} ms, p90 ${row.p90Ms} ms, max ${row.maxMs} ms over ${row.samples}`);
  }
  for (const row of forwarding) {
    console.log(
      `  child chunk stored → forwarded into the parent's stream (${row.backend}): p50 ${row.p50Ms} ms, p90 ${row.p90Ms} ms, ` +
        `max ${row.maxMs} ms over ${row.parts} parts carrying ${row.chunks} chunks`,
    );
  }
  return { childToParentResume: rows, streamForwarding: forwarding };
}

if (import.meta.main) {
  const index = process.argv.indexOf('--samples');
  await runMultiAgentBenchmarks({ samples: index > 0 ? Number(process.argv[index + 1]) : undefined });
}
