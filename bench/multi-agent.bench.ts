// How fast a parent resumes once its sub-agent child finished: the child's completion commits, the database
// emits the parent's event in that transaction and wakes it, an idle worker claims it, replays its first
// model call from the checkpoint and asks the model again. Measured from the child's complete_run returning
// to the parent's next model request, on Postgres and on PGlite, with mock models (no model latency).
//
//   node bench/multi-agent.bench.ts [--samples 40]
import { MockLanguageModelV4 } from 'ai/test';
import { AbsurdAgent } from '../src/agent/absurd-agent.ts';
import { Absurd } from '../src/client/absurd.ts';
import type { Database } from '../src/db/database.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { migrate } from '../src/schema/migrate.ts';
import { subAgentTool } from '../src/tools/sub-agent-tool.ts';
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

export interface MultiAgentBenchmarkResult {
  readonly childToParentResume: readonly ResumeLatency[];
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

async function measure(backend: 'postgres' | 'pglite', db: Database, samples: number): Promise<ResumeLatency> {
  const completedAt: number[] = [];
  const resumedAt: number[] = [];
  const absurd = new Absurd({ db: timedCompletions(db, completedAt), queueName: 'bench_subagents', log: { ...console, log() {}, info() {}, warn() {} } });
  await absurd.createQueue();
  const child = new AbsurdAgent({ id: 'child', model: new MockLanguageModelV4({ doGenerate: async () => textReply('found') }) }, absurd);
  const research = subAgentTool(child, { description: 'Research.' });
  const leadModel = new MockLanguageModelV4({
    doGenerate: async (options) => {
      if (options.prompt.some((message) => message.role === 'tool')) {
        resumedAt.push(performance.now());
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
  const lead = new AbsurdAgent({ id: 'lead', model: leadModel, tools: { research } }, absurd);
  absurd.registerTask({ name: 'lead' }, async () => ({ text: (await lead.generate({ prompt: 'go' })).text }));
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

export async function runMultiAgentBenchmarks(options: { databaseUrl?: string; samples?: number } = {}): Promise<MultiAgentBenchmarkResult> {
  const samples = options.samples ?? 40;
  const rows: ResumeLatency[] = [];
  const scratch = await createScratchDatabase(benchmarkServerUrl(options.databaseUrl), 'bench_multi_agent');
  try {
    const { database } = openDatabase(scratch.url);
    await migrate(database);
    try {
      rows.push(await measure('postgres', database, samples));
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
  } finally {
    await embedded.close();
  }
  for (const row of rows) {
    console.log(`  child done → parent resumed (${row.backend}): p50 ${row.p50Ms} ms, p90 ${row.p90Ms} ms, max ${row.maxMs} ms over ${row.samples}`);
  }
  return { childToParentResume: rows };
}

if (import.meta.main) {
  const index = process.argv.indexOf('--samples');
  await runMultiAgentBenchmarks({ samples: index > 0 ? Number(process.argv[index + 1]) : undefined });
}
