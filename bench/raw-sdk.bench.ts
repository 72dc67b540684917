// The hot path as any absurd-sdk worker sees it: the unmodified client and the byte-identical
// statements it sends, with nothing of this library in between. Per-function p50 (spawn, claim, the
// step lookup, the checkpoint write, complete) beside a bare `select 1` round trip in the same run, a
// full ctx.step timed inside a task handler, claims with a short and a long backlog, and a drain of
// five-step tasks by the SDK's own worker. Creates and drops its own database.
import { pathToFileURL } from 'node:url';
import { Absurd as SdkAbsurd } from 'absurd-sdk';
import pg from 'pg';
import { migrate } from '../src/schema/migrate.ts';
import { loadMigrations } from '../src/schema/migrations.ts';
import { benchmarkServerUrl, createScratchDatabase } from './peers/scratch-database.ts';
import { measureDrain, median, timed, type DrainResult } from './schema.bench.ts';

export interface RawSdkBenchmarkOptions {
  databaseUrl?: string;
  /** Interleaved rounds of the per-function measurement. */
  functionSamples?: number;
  /** Steps timed inside the handler. */
  stepSamples?: number;
  /** Backlogs the claim is measured at. */
  claimBacklogs?: number[];
  claimSamples?: number;
  drainTasks?: number;
  /** Also measure the functions and the step on a database holding only migrations 1..n, in the same run. */
  baselineVersion?: number;
  print?: boolean;
}

export interface RawSdkBenchmarkResult {
  /** p50 in milliseconds of each statement the SDK sends (inside a transaction, so without the commit), and of `select 1`. */
  functions: {
    samples: number;
    selectOneP50Ms: number;
    spawnP50Ms: number;
    claimP50Ms: number;
    lookupP50Ms: number;
    writeP50Ms: number;
    completeP50Ms: number;
  };
  /** A whole `ctx.step` of a new step (lookup, then write) through the SDK, with the floor beside it. */
  step: { samples: number; stepP50Ms: number; lookupP50Ms: number; selectOneP50Ms: number };
  /** claim_task p50 (claim rolled back) with each backlog of pending runs, on an unpartitioned and a partitioned queue. */
  claims: Array<{ pending: number; storage: 'unpartitioned' | 'partitioned'; p50Ms: number }>;
  /** Five-step tasks drained at concurrency 16 by absurd-sdk's own worker (median of three). */
  drain: DrainResult;
  /** The same function and step measurements on the older schema, when asked for. */
  baseline?: { version: number; functions: RawSdkBenchmarkResult['functions']; step: RawSdkBenchmarkResult['step'] };
}

// Exactly the statements absurd-sdk 0.5 sends.
const sdkSql = {
  spawn: `SELECT task_id, run_id, attempt, created
       FROM absurd.spawn_task($1, $2, $3, $4)`,
  claim: `SELECT run_id, task_id, attempt, task_name, params, retry_strategy, max_attempts,
              headers, wake_event, event_payload
       FROM absurd.claim_task($1, $2, $3, $4)`,
  lookup: `SELECT checkpoint_name, state, status, owner_run_id, updated_at
       FROM absurd.get_task_checkpoint_state($1, $2, $3)`,
  write: 'SELECT absurd.set_task_checkpoint_state($1, $2, $3, $4, $5, $6)',
  complete: 'SELECT absurd.complete_run($1, $2, $3)',
};

export async function runRawSdkBenchmarks(options: RawSdkBenchmarkOptions = {}): Promise<RawSdkBenchmarkResult> {
  const scratch = await createScratchDatabase(benchmarkServerUrl(options.databaseUrl), 'ai_sdk_absurd_bench_raw');
  try {
    const setup = new pg.Pool({ connectionString: scratch.url, max: 2 });
    await migrate(setup);
    await setup.end();
    const measured = await measureFunctionsAndStep(scratch.url, options);
    const { functions, step } = measured;
    const claims: RawSdkBenchmarkResult['claims'] = [];
    const backlogs = options.claimBacklogs ?? [10, 5_000, 100_000];
    for (const storage of ['unpartitioned', 'partitioned'] as const) {
      for (const pending of backlogs) {
        claims.push({ pending, storage, p50Ms: await measureClaim(scratch.url, pending, storage, options.claimSamples ?? 500) });
      }
    }
    const drains: DrainResult[] = [];
    for (let round = 0; round < 3; round++) {
      drains.push(await measureDrain(scratch.url, 'absurd-sdk', { tasks: options.drainTasks ?? 3_000, steps: 5, concurrency: 16 }, `raw${round}`));
    }
    drains.sort((left, right) => left.tasksPerSecond - right.tasksPerSecond);
    const result: RawSdkBenchmarkResult = { functions, step, claims, drain: drains[1]!, ...(measured.baseline ? { baseline: measured.baseline } : {}) };
    if (options.print ?? true) printResult(result);
    return result;
  } finally {
    await scratch.drop();
  }
}

type FunctionTimes = Record<'selectOne' | 'spawn' | 'claim' | 'lookup' | 'write' | 'complete', number[]>;
type StepTimes = Record<'step' | 'lookup' | 'selectOne', number[]>;

// This schema, and the older one when asked for: three rounds, each measuring both one after the
// other, so drift of a noisy machine falls on both alike.
async function measureFunctionsAndStep(
  url: string,
  options: RawSdkBenchmarkOptions,
): Promise<Pick<RawSdkBenchmarkResult, 'functions' | 'step' | 'baseline'>> {
  const rounds = 3;
  const functionSamples = Math.ceil((options.functionSamples ?? 2_000) / rounds);
  const stepSamples = Math.ceil((options.stepSamples ?? 2_000) / rounds);
  const version = options.baselineVersion;
  const older = version === undefined ? undefined : await createScratchDatabase(benchmarkServerUrl(options.databaseUrl), 'ai_sdk_absurd_bench_base');
  try {
    if (older) await installThrough(older.url, version!);
    const targets = [url, ...(older ? [older.url] : [])];
    const functionTimes = targets.map(() => emptyTimes(['selectOne', 'spawn', 'claim', 'lookup', 'write', 'complete']) as FunctionTimes);
    const stepTimes = targets.map(() => emptyTimes(['step', 'lookup', 'selectOne']) as StepTimes);
    for (let round = 0; round < rounds; round++) {
      for (const [index, target] of targets.entries()) {
        appendTimes(functionTimes[index]!, await measureFunctions(target, functionSamples, `raw_functions_${round}`));
        appendTimes(stepTimes[index]!, await measureStep(target, stepSamples, `raw_steps_${round}`));
      }
    }
    const summary = (index: number) => ({ functions: summarizeFunctions(functionTimes[index]!), step: summarizeStep(stepTimes[index]!) });
    return { ...summary(0), ...(older ? { baseline: { version: version!, ...summary(1) } } : {}) };
  } finally {
    await older?.drop();
  }
}

function emptyTimes(names: string[]): Record<string, number[]> {
  return Object.fromEntries(names.map((name) => [name, []]));
}

function appendTimes<T extends Record<string, number[]>>(into: T, from: T): void {
  for (const name of Object.keys(from)) into[name as keyof T]!.push(...from[name as keyof T]!);
}

function summarizeFunctions(times: FunctionTimes): RawSdkBenchmarkResult['functions'] {
  return {
    samples: times.spawn.length,
    selectOneP50Ms: median(times.selectOne),
    spawnP50Ms: median(times.spawn),
    claimP50Ms: median(times.claim),
    lookupP50Ms: median(times.lookup),
    writeP50Ms: median(times.write),
    completeP50Ms: median(times.complete),
  };
}

function summarizeStep(times: StepTimes): RawSdkBenchmarkResult['step'] {
  return { samples: times.step.length, stepP50Ms: median(times.step), lookupP50Ms: median(times.lookup), selectOneP50Ms: median(times.selectOne) };
}

async function measureFunctions(url: string, samples: number, queue: string): Promise<FunctionTimes> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select absurd.create_queue($1)', [queue]);
    const times = emptyTimes(['selectOne', 'spawn', 'claim', 'lookup', 'write', 'complete']) as FunctionTimes;
    const state = JSON.stringify({ text: 'x'.repeat(200) });
    const warmup = Math.min(100, samples);
    // One task goes through its whole life per round, in a transaction that is rolled back: the queue
    // never grows, and the times are the functions' own, without the wait for the commit to reach the
    // disk (the same for every schema; the step and the drain below include it).
    for (let index = 0; index < samples + warmup; index++) {
      const keep = index >= warmup;
      await client.query('begin');
      let claimed: { run_id: string; task_id: string } | undefined;
      const record = (name: keyof FunctionTimes, elapsed: number) => keep && times[name].push(elapsed);
      record('selectOne', await timed(() => client.query('select 1')));
      record('spawn', await timed(() => client.query(sdkSql.spawn, [queue, 'raw', JSON.stringify({ index }), JSON.stringify({ max_attempts: 5 })])));
      record('claim', await timed(async () => {
        claimed = (await client.query(sdkSql.claim, [queue, 'raw-worker', 120, 1])).rows[0];
      }));
      if (!claimed) throw new Error('the claim found no task');
      record('lookup', await timed(() => client.query(sdkSql.lookup, [queue, claimed!.task_id, 'step'])));
      record('write', await timed(() => client.query(sdkSql.write, [queue, claimed!.task_id, 'step', state, claimed!.run_id, 120])));
      record('complete', await timed(() => client.query(sdkSql.complete, [queue, claimed!.run_id, JSON.stringify({ done: true })])));
      await client.query('rollback');
    }
    return times;
  } finally {
    await client.end();
  }
}

async function measureStep(url: string, samples: number, queueName: string): Promise<StepTimes> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const floor = new pg.Client({ connectionString: url });
  await floor.connect();
  const quiet = { log() {}, info() {}, warn() {}, error: console.error, debug() {} } as unknown as Console;
  const absurd = new SdkAbsurd({ db: pool, queueName, log: quiet });
  try {
    await absurd.createQueue(queueName);
    const times = emptyTimes(['step', 'lookup', 'selectOne']) as StepTimes;
    const warmup = Math.min(100, samples);
    absurd.registerTask({ name: 'steps' }, async (_params, ctx) => {
      const taskID = ctx.taskID;
      for (let index = 0; index < samples + warmup; index++) {
        const step = await timed(() => ctx.step(`step-${index}`, async () => index));
        const lookup = await timed(() => floor.query(sdkSql.lookup, [queueName, taskID, `absent-${index}`]));
        const selectOne = await timed(() => floor.query('select 1'));
        if (index >= warmup) {
          times.step.push(step);
          times.lookup.push(lookup);
          times.selectOne.push(selectOne);
        }
      }
      return 'done';
    });
    await absurd.spawn('steps', {}, { queue: queueName });
    await absurd.workBatch('raw-steps', 600, 1);
    if (times.step.length !== samples) throw new Error(`timed ${times.step.length} of ${samples} steps`);
    return times;
  } finally {
    await absurd.close();
    await pool.end();
    await floor.end();
  }
}

async function measureClaim(url: string, pending: number, storage: 'unpartitioned' | 'partitioned', samples: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const queue = `raw_claim_${storage.slice(0, 1)}${pending}`;
    await client.query('select absurd.create_queue($1, $2)', [queue, storage]);
    for (let spawned = 0; spawned < pending; spawned += 10_000) {
      await client.query(
        `select absurd.spawn_task($1, 'raw', jsonb_build_object('n', n), '{"max_attempts": 5}') from generate_series(1, $2) n`,
        [queue, Math.min(10_000, pending - spawned)],
      );
    }
    await client.query('vacuum analyze');
    const times: number[] = [];
    const warmup = Math.min(50, samples);
    for (let index = 0; index < samples + warmup; index++) {
      await client.query('begin');
      const elapsed = await timed(async () => {
        const { rows } = await client.query(sdkSql.claim, [queue, 'raw-worker', 60, 1]);
        if (rows.length !== 1) throw new Error(`claim on ${queue} returned ${rows.length} rows`);
      });
      await client.query('rollback');
      if (index >= warmup) times.push(elapsed);
    }
    return median(times);
  } finally {
    await client.end();
  }
}

// Migrations 1..version, as a database an older library installed would hold them.
async function installThrough(url: string, version: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(['create schema if not exists ai_sdk_absurd;', ...loadMigrations().slice(0, version).map((migration) => migration.sql)].join('\n'));
  } finally {
    await client.end();
  }
}

function printResult(result: RawSdkBenchmarkResult): void {
  const { functions, step, claims, drain } = result;
  const ms = (value: number) => `${value.toFixed(3)} ms`;
  const rows: Array<[string, RawSdkBenchmarkResult['functions'], RawSdkBenchmarkResult['step']]> = [['this schema', functions, step]];
  if (result.baseline) rows.push([`migrations 1-${result.baseline.version}`, result.baseline.functions, result.baseline.step]);
  console.log('unmodified absurd-sdk client (p50; per-function times without the commit, ctx.step with it)');
  for (const [label, f, s] of rows) {
    console.log(`  ${label}: select 1 ${ms(f.selectOneP50Ms)} | spawn ${ms(f.spawnP50Ms)} | claim ${ms(f.claimP50Ms)} | ` +
      `lookup ${ms(f.lookupP50Ms)} | write ${ms(f.writeP50Ms)} | complete ${ms(f.completeP50Ms)}`);
    console.log(`  ${label}: ctx.step ${ms(s.stepP50Ms)}, its lookup ${ms(s.lookupP50Ms)}, select 1 ${ms(s.selectOneP50Ms)} (same run)`);
  }
  console.log(`  claim by backlog: ${claims.map((claim) => `${claim.storage} ${claim.pending} pending ${ms(claim.p50Ms)}`).join(', ')}`);
  console.log(`  drain, absurd-sdk worker: ${drain.tasks} tasks x ${drain.steps} steps at concurrency ${drain.concurrency} = ${drain.tasksPerSecond.toFixed(0)} tasks/s`);
  console.log(JSON.stringify(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const baseline = process.argv.find((argument) => argument.startsWith('--baseline='));
  const baselineVersion = baseline ? Number(baseline.slice('--baseline='.length)) : undefined;
  await runRawSdkBenchmarks({
    ...(quick ? { functionSamples: 500, stepSamples: 500, claimBacklogs: [10, 5_000], claimSamples: 200, drainTasks: 300 } : {}),
    ...(baselineVersion === undefined ? {} : { baselineVersion }),
  });
}
