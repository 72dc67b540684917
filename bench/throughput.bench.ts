// Measures what an operator sizes a deployment by: agent tasks and checkpoints per second at worker
// concurrency 1, 4 and 16; how long a crashed run with 1,000 checkpoints takes to resume; how soon an
// idle worker starts a freshly spawned task; and the memory of a durable worker next to a plain AI SDK
// worker doing the same agent work (each measured in a child process of its own).
import { spawn as spawnProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { TaskContext } from 'absurd-sdk';
import pg from 'pg';
import { Absurd } from '../src/client/absurd.ts';
import { getCurrentTask } from '../src/client/current-task.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../src/codec/checkpoint-codec.ts';
import { migrate } from '../src/schema/migrate.ts';
import { sampleModelResult } from './codec.bench.ts';
import { runAgentDrain, type AgentWorkload } from './peers/agent-workload.ts';
import { compileForBenchmark } from './peers/compiled-build.ts';
import type { MemoryWorkerOptions } from './peers/memory-worker.ts';
import { benchmarkServerUrl, createScratchDatabase, type ScratchDatabase } from './peers/scratch-database.ts';
import { median, percentile, round } from './peers/statistics.ts';

export interface ThroughputBenchmarkOptions {
  /** Postgres server to benchmark on; a scratch database is created there and dropped after. */
  databaseUrl?: string;
  /** Agent tasks drained at each concurrency. */
  drainTasks?: number;
  concurrencies?: number[];
  /** Model calls per agent task (each but the last asks for one tool call). */
  modelCalls?: number;
  /** Checkpoints in the run that is resumed. */
  resumeCheckpoints?: number;
  resumeSamples?: number;
  /** Spawns timed per backend for spawn-to-start latency. */
  latencySamples?: number;
  /** Agent runs each child process does before its memory is read. */
  memoryRuns?: number;
  print?: boolean;
}

export interface DrainMeasurement {
  backend: 'postgres' | 'pglite';
  concurrency: number;
  tasks: number;
  checkpointsPerTask: number;
  seconds: number;
  tasksPerSecond: number;
  checkpointsPerSecond: number;
}

export interface ThroughputBenchmarkResult {
  drain: DrainMeasurement[];
  resume: { backend: 'postgres'; checkpoints: number; checkpointBytes: number; samples: number; loadP50Ms: number; bareSelectP50Ms: number; resumeP50Ms: number; resumeP90Ms: number; target: number };
  spawnToStart: Array<{ backend: 'postgres' | 'pglite'; samples: number; p50Ms: number; p90Ms: number; target: number }>;
  memory: { runs: number; plainRssMb: number; durableRssMb: number; ratio: number; target: number };
}

export async function runThroughputBenchmarks(options: ThroughputBenchmarkOptions = {}): Promise<ThroughputBenchmarkResult> {
  const serverUrl = benchmarkServerUrl(options.databaseUrl);
  const workload: AgentWorkload = { modelCalls: options.modelCalls ?? 5, responseBytes: 1_024 };
  const scratch = await createScratchDatabase(serverUrl, 'ai_sdk_absurd_bench_throughput');
  try {
    const pool = new pg.Pool({ connectionString: scratch.url, max: 1 });
    await migrate(pool).finally(() => pool.end());
    const drain: DrainMeasurement[] = [];
    for (const backend of ['postgres', 'pglite'] as const) {
      for (const concurrency of options.concurrencies ?? [1, 4, 16]) {
        drain.push(await measureDrain(backend, scratch, concurrency, options.drainTasks ?? 200, workload));
      }
    }
    const resume = await measureResume(scratch, options.resumeCheckpoints ?? 1_000, options.resumeSamples ?? 15);
    const spawnToStart = [
      await measureSpawnToStart('postgres', scratch, options.latencySamples ?? 200),
      await measureSpawnToStart('pglite', scratch, options.latencySamples ?? 200),
    ];
    const memory = await measureMemory(scratch, options.memoryRuns ?? 300, workload);
    const result: ThroughputBenchmarkResult = { drain, resume, spawnToStart, memory };
    if (options.print ?? true) printThroughput(result);
    return result;
  } finally {
    await scratch.drop();
  }
}

async function measureDrain(
  backend: 'postgres' | 'pglite',
  scratch: ScratchDatabase,
  concurrency: number,
  tasks: number,
  workload: AgentWorkload,
): Promise<DrainMeasurement> {
  const db = backend === 'postgres' ? scratch.url : 'pglite:memory';
  const measured = await runAgentDrain({ db, concurrency, tasks, workload });
  return {
    backend,
    concurrency,
    tasks,
    checkpointsPerTask: measured.checkpoints / tasks,
    seconds: round(measured.seconds),
    tasksPerSecond: round(tasks / measured.seconds),
    checkpointsPerSecond: round(measured.checkpoints / measured.seconds),
  };
}

/**
 * A run writes `checkpoints` model-response-sized checkpoints and then fails, as a crash would end it.
 * Timed: the retry's claim, the load of every checkpoint, and the replay that decodes each one.
 */
export async function measureResume(scratch: ScratchDatabase, checkpoints: number, samples: number): Promise<ThroughputBenchmarkResult['resume']> {
  const absurd = new Absurd({ db: scratch.url, queueName: 'resume', log: withoutExpectedCrash(console) });
  const response = sampleModelResult(1_000);
  const checkpointBytes = Buffer.byteLength(JSON.stringify(encodeCheckpoint(response, { stepName: 'model:1' })));
  const loads: number[] = [];
  const resumes: number[] = [];
  const bareSelects: number[] = [];
  let claimStarted = 0;
  absurd.registerTask({ name: 'long-run' }, async (_params: null, ctx: TaskContext) => {
    const handlerStarted = performance.now();
    const replaying = (getCurrentTask()?.attempt ?? 1) > 1;
    for (let index = 1; index <= checkpoints; index++) {
      const stepName = `agent:1/model:${index}`;
      const stored = await ctx.step(stepName, async () => encodeCheckpoint(response, { stepName }));
      decodeCheckpoint(stored, { stepName });
    }
    if (!replaying) throw new Error('simulated crash after the last checkpoint');
    loads.push(handlerStarted - claimStarted);
    resumes.push(performance.now() - claimStarted);
    return null;
  });
  try {
    await absurd.createQueue();
    for (let sample = 0; sample < samples + 1; sample++) {
      await absurd.spawn('long-run', null, { maxAttempts: 2, retryStrategy: { kind: 'none' } });
      await absurd.workBatch('resume-bench', 120, 1); // first attempt: writes every checkpoint, then fails
      claimStarted = performance.now();
      await absurd.workBatch('resume-bench', 120, 1); // the retry: replays them all
      // Baseline: the same rows read with one plain SELECT, no claim and no decoding.
      const selectStarted = performance.now();
      await absurd.database.query('select checkpoint_name, state from absurd.c_resume where task_id = (select task_id from absurd.t_resume order by task_id desc limit 1)');
      bareSelects.push(performance.now() - selectStarted);
    }
  } finally {
    await absurd.close();
  }
  // The first sample warms caches and the JIT; it is not reported.
  loads.shift();
  resumes.shift();
  bareSelects.shift();
  return {
    backend: 'postgres',
    checkpoints,
    checkpointBytes,
    samples: resumes.length,
    loadP50Ms: round(median(loads)),
    bareSelectP50Ms: round(median(bareSelects)),
    resumeP50Ms: round(median(resumes)),
    resumeP90Ms: round(percentile(resumes, 0.9)),
    target: 10,
  };
}

/** The client's log, minus the expected failure of each first attempt. */
function withoutExpectedCrash(log: Console) {
  const expected = (args: unknown[]) => args.some((arg) => String(arg instanceof Error ? arg.message : arg).includes('simulated crash'));
  return {
    log: (...args: unknown[]) => log.log(...args),
    info: (...args: unknown[]) => log.info(...args),
    warn: (...args: unknown[]) => (expected(args) ? undefined : log.warn(...args)),
    error: (...args: unknown[]) => (expected(args) ? undefined : log.error(...args)),
  };
}

/**
 * An idle worker (woken by NOTIFY on Postgres, by an in-process signal on PGlite) and one spawn at a time.
 * Its poll interval is a full second, so only the wake-up can explain latencies of a few milliseconds.
 */
export async function measureSpawnToStart(
  backend: 'postgres' | 'pglite',
  scratch: ScratchDatabase,
  samples: number,
): Promise<ThroughputBenchmarkResult['spawnToStart'][number]> {
  const absurd = new Absurd({ db: backend === 'postgres' ? scratch.url : 'pglite:memory', queueName: 'latency' });
  const latencies: number[] = [];
  let spawnedAt = 0;
  let started: () => void = () => {};
  absurd.registerTask({ name: 'ping' }, async () => {
    latencies.push(performance.now() - spawnedAt);
    started();
    return null;
  });
  try {
    await absurd.createQueue();
    const worker = await absurd.startWorker({ concurrency: 1, pollInterval: 1 });
    for (let sample = 0; sample < samples + 10; sample++) {
      // Let the worker go back to sleep, so each spawn finds it idle.
      await new Promise((resolve) => setTimeout(resolve, 15));
      const handlerRan = new Promise<void>((resolve) => (started = resolve));
      spawnedAt = performance.now();
      await absurd.spawn('ping', null);
      await handlerRan;
    }
    await worker.close();
  } finally {
    await absurd.close();
  }
  const measured = latencies.slice(10);
  return { backend, samples: measured.length, p50Ms: round(median(measured)), p90Ms: round(percentile(measured, 0.9)), target: 10 };
}

/**
 * Resident memory of a worker process after `runs` agent runs, plain AI SDK vs durable on Postgres, both
 * running compiled JavaScript as a deployed worker does.
 */
async function measureMemory(scratch: ScratchDatabase, runs: number, workload: AgentWorkload): Promise<ThroughputBenchmarkResult['memory']> {
  const script = await compileForBenchmark('bench/peers/memory-worker.ts');
  const plain: number[] = [];
  const durable: number[] = [];
  // Alternate the two kinds so drift on a shared machine affects both alike.
  for (let round = 0; round < 3; round++) {
    plain.push(await childRss(script, { kind: 'plain', runs, workload }));
    durable.push(await childRss(script, { kind: 'durable', runs, workload, databaseUrl: scratch.url }));
  }
  const plainRssMb = median(plain);
  const durableRssMb = median(durable);
  return { runs, plainRssMb: round(plainRssMb), durableRssMb: round(durableRssMb), ratio: round(durableRssMb / plainRssMb), target: 1.2 };
}

function childRss(script: string, options: MemoryWorkerOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(process.execPath, ['--expose-gc', script, JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const match = /^rss-mb (\d+(?:\.\d+)?)$/m.exec(output);
      if (code === 0 && match) resolve(Number(match[1]));
      else reject(new Error(`memory worker (${options.kind}) exited with ${code}: ${output}`));
    });
  });
}

function printThroughput(result: ThroughputBenchmarkResult): void {
  console.log('agent task throughput (one worker, tasks drained from a full queue)');
  for (const row of result.drain) {
    console.log(
      `  ${row.backend.padEnd(8)} concurrency ${String(row.concurrency).padStart(2)}: ${String(row.tasksPerSecond).padStart(7)} tasks/s ` +
        `${String(row.checkpointsPerSecond).padStart(8)} checkpoints/s  (${row.tasks} tasks × ${row.checkpointsPerTask} checkpoints)`,
    );
  }
  const resume = result.resume;
  console.log(
    `resume of a run with ${resume.checkpoints} checkpoints (${resume.checkpointBytes} B each): p50 ${resume.resumeP50Ms} ms ` +
      `(claim + load ${resume.loadP50Ms} ms; a bare SELECT of the same rows ${resume.bareSelectP50Ms} ms), p90 ${resume.resumeP90Ms} ms, target <= ${resume.target} ms`,
  );
  for (const row of result.spawnToStart) {
    console.log(`spawn-to-start with an idle worker, ${row.backend}: p50 ${row.p50Ms} ms, p90 ${row.p90Ms} ms (target p50 <= ${row.target} ms)`);
  }
  const memory = result.memory;
  console.log(
    `worker RSS after ${memory.runs} agent runs: plain ${memory.plainRssMb} MB, durable ${memory.durableRssMb} MB, ratio ${memory.ratio} (target <= ${memory.target})`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runThroughputBenchmarks();
