// Measures the protocol schema where workers spend their time, side by side in one run on one server:
// a checkpoint write against a bare INSERT ... RETURNING into a comparable table, claim_task with a
// short and a very long pending queue, and a drain of five-step tasks at concurrency 16, through this
// library's client and through the unmodified absurd-sdk client (the same workload the official
// schema was measured with). Creates and drops its own database.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Absurd as SdkAbsurd } from 'absurd-sdk';
import pg from 'pg';
import { Absurd } from '../src/client/absurd.ts';
import { migrate } from '../src/schema/migrate.ts';

export interface SchemaBenchmarkOptions {
  /** Server to benchmark on (a scratch database is created there). */
  databaseUrl?: string;
  /** Interleaved samples of the checkpoint write and of the bare insert. */
  checkpointSamples?: number;
  /** Pending runs in the long queue of the claim comparison. */
  longQueuePending?: number;
  /** Samples per queue of the claim comparison. */
  claimSamples?: number;
  /** Tasks drained by each client's worker. */
  drainTasks?: number;
  /** Steps per drained task. */
  drainSteps?: number;
  /** Worker concurrency of the drain. */
  drainConcurrency?: number;
  /** Print the table and JSON (default true). */
  print?: boolean;
}

export interface SchemaBenchmarkResult {
  checkpointWrite: { samples: number; checkpointP50Ms: number; bareInsertP50Ms: number; ratio: number; target: number };
  claim: { samples: number; shortPending: number; longPending: number; shortP50Ms: number; longP50Ms: number; ratio: number; target: number };
  /** The drain through this library's `Absurd` client (the goal applies to it). */
  drain: DrainResult;
  /** The same drain through the unmodified absurd-sdk client, comparable with the official schema's figure. */
  sdkDrain: DrainResult;
}

export interface DrainResult {
  client: 'ai-sdk-absurd' | 'absurd-sdk';
  tasks: number;
  steps: number;
  concurrency: number;
  seconds: number;
  tasksPerSecond: number;
  /** Statements the worker sent per task. */
  statementsPerTask: number;
  target: number;
}

const defaultUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

export async function runSchemaBenchmarks(options: SchemaBenchmarkOptions = {}): Promise<SchemaBenchmarkResult> {
  const adminUrl = options.databaseUrl ?? process.env.BENCH_DATABASE_URL ?? defaultUrl;
  const databaseName = `ai_sdk_absurd_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${databaseName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  const databaseUrl = url.toString();
  try {
    const setupPool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    await migrate(setupPool);
    await setupPool.end();
    const checkpointWrite = await measureCheckpointWrite(databaseUrl, options.checkpointSamples ?? 3_000);
    const claim = await measureClaim(databaseUrl, options.longQueuePending ?? 100_000, options.claimSamples ?? 1_000);
    const drainOptions = {
      tasks: options.drainTasks ?? 3_000,
      steps: options.drainSteps ?? 5,
      concurrency: options.drainConcurrency ?? 16,
    };
    // Alternated, so that drift of a noisy machine falls on both clients alike; the median is kept.
    const drains: Record<DrainResult['client'], DrainResult[]> = { 'ai-sdk-absurd': [], 'absurd-sdk': [] };
    for (let round = 0; round < 3; round++) {
      for (const client of ['ai-sdk-absurd', 'absurd-sdk'] as const) {
        drains[client].push(await measureDrain(databaseUrl, client, drainOptions, `${round}`));
      }
    }
    const result: SchemaBenchmarkResult = {
      checkpointWrite,
      claim,
      drain: medianDrain(drains['ai-sdk-absurd']),
      sdkDrain: medianDrain(drains['absurd-sdk']),
    };
    if (options.print ?? true) printResult(result);
    return result;
  } finally {
    const dropper = new pg.Client({ connectionString: adminUrl });
    await dropper.connect();
    await dropper.query(`drop database if exists ${databaseName} with (force)`);
    await dropper.end();
  }
}

async function measureCheckpointWrite(databaseUrl: string, samples: number): Promise<SchemaBenchmarkResult['checkpointWrite']> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const queue = 'bench_checkpoint';
    await client.query('select absurd.create_queue($1)', [queue]);
    // The bare table has the checkpoint table's shape and key, so the comparison isolates protocol overhead.
    await client.query(`create table public.bare_checkpoints (
      task_id uuid not null, checkpoint_name text not null, state jsonb, status text not null default 'committed',
      owner_run_id uuid, updated_at timestamptz not null, primary key (task_id, checkpoint_name))`);
    await client.query(`select absurd.spawn_task($1, 'bench', '{}')`, [queue]);
    const claimed = await client.query('select run_id, task_id from absurd.claim_task($1, $2, $3, $4)', [queue, 'bench', 300, 1]);
    const { run_id: runId, task_id: taskId } = claimed.rows[0];
    const state = JSON.stringify({ role: 'assistant', content: [{ type: 'text', text: 'x'.repeat(200) }] });
    // The statements are byte for byte what absurd-sdk sends for a step, and a plain insert.
    const checkpointSql = 'SELECT absurd.set_task_checkpoint_state($1, $2, $3, $4, $5, $6)';
    const bareSql = `insert into public.bare_checkpoints (task_id, checkpoint_name, state, status, owner_run_id, updated_at)
      values ($1, $2, $3, 'committed', $4, now()) returning task_id`;
    const checkpointTimes: number[] = [];
    const bareTimes: number[] = [];
    const warmup = Math.min(200, samples);
    for (let index = 0; index < samples + warmup; index++) {
      const name = `step:${index}`;
      const bare = await timed(() => client.query(bareSql, [taskId, name, state, runId]));
      const checkpoint = await timed(() => client.query(checkpointSql, [queue, taskId, name, state, runId, 300]));
      if (index >= warmup) {
        bareTimes.push(bare);
        checkpointTimes.push(checkpoint);
      }
    }
    const checkpointP50Ms = median(checkpointTimes);
    const bareInsertP50Ms = median(bareTimes);
    return { samples, checkpointP50Ms, bareInsertP50Ms, ratio: checkpointP50Ms / bareInsertP50Ms, target: 2 };
  } finally {
    await client.end();
  }
}

async function measureClaim(databaseUrl: string, longPending: number, samples: number): Promise<SchemaBenchmarkResult['claim']> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const shortPending = 10;
    const shortQueue = 'bench_claim_short';
    const longQueue = 'bench_claim_long';
    for (const [queue, count] of [[shortQueue, shortPending], [longQueue, longPending]] as const) {
      await client.query('select absurd.create_queue($1)', [queue]);
      for (let spawned = 0; spawned < count; spawned += 10_000) {
        await client.query(
          `select absurd.spawn_task($1, 'bench', jsonb_build_object('n', n), '{"max_attempts": 5}') from generate_series(1, $2) n`,
          [queue, Math.min(10_000, count - spawned)],
        );
      }
    }
    // Steady state: autovacuum would have analyzed tables this size long before.
    await client.query('vacuum analyze');
    const claimSql = `SELECT run_id, task_id, attempt, task_name, params, retry_strategy, max_attempts,
              headers, wake_event, event_payload
       FROM absurd.claim_task($1, $2, $3, $4)`;
    const shortTimes: number[] = [];
    const longTimes: number[] = [];
    // Each claim is rolled back so both queues keep their size; short and long alternate to share noise.
    const warmup = Math.min(100, samples);
    for (let index = 0; index < samples + warmup; index++) {
      for (const [queue, times] of [[shortQueue, shortTimes], [longQueue, longTimes]] as const) {
        await client.query('begin');
        const elapsed = await timed(async () => {
          const result = await client.query(claimSql, [queue, 'bench', 60, 1]);
          if (result.rows.length !== 1) throw new Error(`claim on ${queue} returned ${result.rows.length} rows`);
        });
        await client.query('rollback');
        if (index >= warmup) times.push(elapsed);
      }
    }
    const shortP50Ms = median(shortTimes);
    const longP50Ms = median(longTimes);
    return { samples, shortPending, longPending, shortP50Ms, longP50Ms, ratio: longP50Ms / shortP50Ms, target: 1.2 };
  } finally {
    await client.end();
  }
}

export async function measureDrain(
  databaseUrl: string,
  client: DrainResult['client'],
  options: { tasks: number; steps: number; concurrency: number },
  suffix: string,
): Promise<DrainResult> {
  const { tasks, steps, concurrency } = options;
  const queueName = `bench_drain_${client === 'absurd-sdk' ? 'sdk' : 'ours'}_${suffix}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency + 2 });
  let statements = 0;
  const countedQuery = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    statements += 1;
    return countedQuery(...args);
  };
  const watcher = new pg.Client({ connectionString: databaseUrl });
  await watcher.connect();
  const quiet = { log() {}, info() {}, warn() {}, error: console.error, debug() {} } as unknown as Console;
  const absurd = client === 'absurd-sdk' ? new SdkAbsurd({ db: pool, queueName, log: quiet }) : new Absurd({ db: pool, queueName, log: quiet });
  try {
    await absurd.createQueue(queueName);
    absurd.registerTask({ name: 'five-steps' }, async (params: { n: number }, context) => {
      let total = params.n;
      for (let step = 0; step < steps; step++) {
        total = await context.step(`step-${step}`, async () => total + step);
      }
      return { total };
    });
    for (let spawned = 0; spawned < tasks; spawned += 1_000) {
      await watcher.query(
        `select absurd.spawn_task($1, 'five-steps', jsonb_build_object('n', n), '{"max_attempts": 5}') from generate_series(1, $2) n`,
        [queueName, Math.min(1_000, tasks - spawned)],
      );
    }
    await watcher.query('vacuum analyze');
    // Start from a clean slate: no write-ahead log left to flush by the measurements before this one.
    await watcher.query('checkpoint');
    statements = 0;
    const started = performance.now();
    const worker = await absurd.startWorker({ concurrency, claimTimeout: 60, pollInterval: 0.05, workerId: 'bench' });
    const completedSql = `select count(*)::int as done from absurd.${pg.escapeIdentifier(`t_${queueName}`)} where state = 'completed'`;
    let finishedAt = 0;
    while (finishedAt === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const { rows } = await watcher.query(completedSql);
      if (rows[0].done >= tasks) finishedAt = performance.now();
    }
    const sent = statements;
    await worker.close();
    const { rows } = await watcher.query(`select count(*)::int as checkpoints from absurd.${pg.escapeIdentifier(`c_${queueName}`)}`);
    if (rows[0].checkpoints !== tasks * steps) throw new Error(`expected ${tasks * steps} checkpoints, found ${rows[0].checkpoints}`);
    const seconds = (finishedAt - started) / 1000;
    return { client, tasks, steps, concurrency, seconds, tasksPerSecond: tasks / seconds, statementsPerTask: sent / tasks, target: 600 };
  } finally {
    await absurd.close();
    await pool.end();
    await watcher.end();
  }
}

function medianDrain(results: DrainResult[]): DrainResult {
  const sorted = [...results].sort((left, right) => left.tasksPerSecond - right.tasksPerSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function timed(operation: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await operation();
  return performance.now() - started;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0 ? ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2 : (sorted[middle] ?? 0);
}

function printResult(result: SchemaBenchmarkResult): void {
  const { checkpointWrite, claim, drain, sdkDrain } = result;
  const verdict = (ok: boolean) => (ok ? 'meets target' : 'MISSES target');
  console.log('protocol schema');
  console.log(
    `  checkpoint write p50   ${checkpointWrite.checkpointP50Ms.toFixed(3)} ms vs bare insert ${checkpointWrite.bareInsertP50Ms.toFixed(3)} ms` +
      `  = ${checkpointWrite.ratio.toFixed(2)}x (target <= ${checkpointWrite.target}x, ${verdict(checkpointWrite.ratio <= checkpointWrite.target)})`,
  );
  console.log(
    `  claim_task p50         ${claim.longP50Ms.toFixed(3)} ms with ${claim.longPending} pending vs ${claim.shortP50Ms.toFixed(3)} ms with ${claim.shortPending}` +
      `  = ${claim.ratio.toFixed(2)}x (target <= ${claim.target}x, ${verdict(claim.ratio <= claim.target)})`,
  );
  console.log(
    `  drain, Absurd client   ${drain.tasks} tasks x ${drain.steps} steps at concurrency ${drain.concurrency} in ${drain.seconds.toFixed(2)} s` +
      `  = ${drain.tasksPerSecond.toFixed(0)} tasks/s, ${drain.statementsPerTask.toFixed(1)} statements a task` +
      ` (target >= ${drain.target}, ${verdict(drain.tasksPerSecond >= drain.target)})`,
  );
  console.log(
    `  drain, absurd-sdk      ${sdkDrain.tasks} tasks x ${sdkDrain.steps} steps in ${sdkDrain.seconds.toFixed(2)} s` +
      `  = ${sdkDrain.tasksPerSecond.toFixed(0)} tasks/s, ${sdkDrain.statementsPerTask.toFixed(1)} statements a task`,
  );
  console.log(JSON.stringify(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runSchemaBenchmarks();
