// The spend ledger's costs. (1) Per model call: AbsurdAgent runs of ten live model calls each, without a
// budget and with one (a read of the spend from the checkpoints before every live call), interleaved
// round by round, on Postgres and on PGlite; every checkpoint carries its usage either way. (2) The
// dashboard's run list with 100,000 finished tasks in its queue: the queue is created through the API,
// the tasks are inserted with generate_series, and the first page is read as the dashboard reads it.
//
//   node bench/ledger.bench.ts [--quick]
import { PGlite } from '@electric-sql/pglite';
import { stepCountIs } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { AbsurdAgent } from '../src/agent/absurd-agent.ts';
import { Absurd } from '../src/client/absurd.ts';
import { listRuns } from '../src/dashboard/run-list.ts';
import type { Database } from '../src/db/database.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { migrate } from '../src/schema/migrate.ts';
import { benchmarkServerUrl, createScratchDatabase } from './peers/scratch-database.ts';
import { median, percentile, round } from './peers/statistics.ts';

export interface LedgerCallCost {
  readonly backend: 'postgres' | 'pglite';
  readonly runs: number;
  readonly callsPerRun: number;
  /** Median time per live model call of a run (mock model: no model latency). */
  readonly withoutBudgetMs: number;
  readonly withBudgetMs: number;
  readonly overheadPercent: number;
}

export interface RunListLatency {
  readonly backend: 'postgres' | 'pglite';
  readonly finishedTasks: number;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  /** The same with a state filter ('completed'). */
  readonly filteredP50Ms: number;
}

export interface LedgerBenchmarkResult {
  readonly perModelCall: readonly LedgerCallCost[];
  readonly runList: readonly RunListLatency[];
}

const usage = { inputTokens: { total: 120, noCache: 100, cacheRead: 20, cacheWrite: 0 }, outputTokens: { total: 30, text: 20, reasoning: 10 } };
const quietLog = { ...console, log() {}, info() {}, warn() {}, debug() {} } as Console;

/** Asks for one more `work` call on every turn, so a run makes exactly `stepCountIs` model calls. */
function endlessModel(): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    doGenerate: async (options) => {
      const turn = options.prompt.filter((message) => message.role === 'assistant').length;
      return {
        content: [{ type: 'tool-call' as const, toolCallId: `call-${turn}`, toolName: 'work', input: '{}' }],
        finishReason: { unified: 'tool-calls' as const, raw: undefined },
        usage,
        warnings: [],
      };
    },
  });
}

async function measureCallCost(backend: 'postgres' | 'pglite', db: Database, runs: number, callsPerRun: number): Promise<LedgerCallCost> {
  const absurd = new Absurd({ db, queueName: 'bench_ledger', log: quietLog });
  await absurd.createQueue();
  const work = { description: 'Work.', inputSchema: (await import('zod')).z.object({}), execute: async () => 'ok' };
  const settings = { model: endlessModel(), tools: { work }, stopWhen: stepCountIs(callsPerRun) };
  const plain = new AbsurdAgent({ id: 'plain', ...settings }, absurd);
  const budgeted = new AbsurdAgent({ id: 'budgeted', ...settings, budget: { tokens: 1e12 } }, absurd);
  absurd.registerTask({ name: 'plain' }, async () => (await plain.generate({ prompt: 'go' })).steps.length);
  absurd.registerTask({ name: 'budgeted' }, async () => (await budgeted.generate({ prompt: 'go' })).steps.length);
  const perCall = { plain: [] as number[], budgeted: [] as number[] };
  try {
    for (let round = 0; round < runs + 2; round++) {
      for (const name of round % 2 === 0 ? (['plain', 'budgeted'] as const) : (['budgeted', 'plain'] as const)) {
        const { taskID } = await absurd.spawn(name, {});
        const started = performance.now();
        await absurd.workBatch('bench', 60, 1);
        const elapsed = performance.now() - started;
        const snapshot = await absurd.fetchTaskResult(taskID);
        if (snapshot?.state !== 'completed') throw new Error(`bench task ${name} ended ${JSON.stringify(snapshot)}`);
        if (round >= 2) perCall[name].push(elapsed / callsPerRun);
      }
    }
  } finally {
    await absurd.close();
  }
  const withoutBudgetMs = median(perCall.plain);
  const withBudgetMs = median(perCall.budgeted);
  return {
    backend,
    runs,
    callsPerRun,
    withoutBudgetMs: round(withoutBudgetMs),
    withBudgetMs: round(withBudgetMs),
    overheadPercent: round(((withBudgetMs - withoutBudgetMs) / withoutBudgetMs) * 100),
  };
}

async function measureRunList(backend: 'postgres' | 'pglite', db: Database, finishedTasks: number, samples: number): Promise<RunListLatency> {
  const absurd = new Absurd({ db, queueName: 'bench_runlist', log: quietLog });
  await absurd.createQueue();
  try {
    await db.query(
      `insert into absurd.t_bench_runlist (task_id, task_name, params, enqueue_at, first_started_at, state, attempts, completed_payload)
       select gen_random_uuid(), 'analyse', jsonb_build_object('customer', n), now() - make_interval(secs => n), now() - make_interval(secs => n),
              'completed', 1, '{"ok":true}'::jsonb
       from generate_series(1, $1::int) n`,
      [finishedTasks],
    );
    await db.query('analyze absurd.t_bench_runlist');
    const time = async (filter: Parameters<typeof listRuns>[1]) => {
      const times: number[] = [];
      for (let sample = 0; sample < samples + 3; sample++) {
        const started = performance.now();
        const rows = await listRuns(db, filter);
        if (rows.length !== 50) throw new Error(`the run list showed ${rows.length} rows, not 50`);
        if (sample >= 3) times.push(performance.now() - started);
      }
      return times;
    };
    const all = await time({ queue: 'bench_runlist' });
    const completed = await time({ queue: 'bench_runlist', state: 'completed' });
    return { backend, finishedTasks, samples, p50Ms: round(median(all)), p90Ms: round(percentile(all, 0.9)), filteredP50Ms: round(median(completed)) };
  } finally {
    await absurd.close();
  }
}

export async function runLedgerBenchmarks(options: { databaseUrl?: string; runs?: number; finishedTasks?: number; samples?: number } = {}): Promise<LedgerBenchmarkResult> {
  const runs = options.runs ?? 30;
  const finishedTasks = options.finishedTasks ?? 100_000;
  const samples = options.samples ?? 30;
  const perModelCall: LedgerCallCost[] = [];
  const runList: RunListLatency[] = [];
  const scratch = await createScratchDatabase(benchmarkServerUrl(options.databaseUrl), 'bench_ledger');
  try {
    const { database } = openDatabase(scratch.url);
    await migrate(database);
    try {
      perModelCall.push(await measureCallCost('postgres', database, runs, 10));
      runList.push(await measureRunList('postgres', database, finishedTasks, samples));
    } finally {
      await database.close();
    }
  } finally {
    await scratch.drop();
  }
  const { database: embedded } = openDatabase(new PGlite());
  try {
    perModelCall.push(await measureCallCost('pglite', embedded, runs, 10));
    runList.push(await measureRunList('pglite', embedded, finishedTasks, samples));
  } finally {
    await embedded.close();
  }
  for (const row of perModelCall) {
    console.log(`  per model call (${row.backend}): ${row.withoutBudgetMs} ms without a budget, ${row.withBudgetMs} ms with one (${row.overheadPercent} %)`);
  }
  for (const row of runList) {
    console.log(`  run list, ${row.finishedTasks} finished tasks (${row.backend}): p50 ${row.p50Ms} ms, p90 ${row.p90Ms} ms; state filter p50 ${row.filteredP50Ms} ms`);
  }
  return { perModelCall, runList };
}

if (import.meta.main) {
  const quick = process.argv.includes('--quick');
  await runLedgerBenchmarks(quick ? { runs: 8, finishedTasks: 100_000, samples: 10 } : {});
}
