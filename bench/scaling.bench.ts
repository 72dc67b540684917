// What one Postgres primary carries as workers are added and history piles up: a queue drained by 1, 2 and 4
// worker processes (tasks/s, claims that came back empty although work remained), and retention: removing N
// finished tasks with cleanup_tasks on an unpartitioned queue, or by detaching and dropping the weekly
// partitions that hold them on a partitioned queue, with the throughput of a drain running on the same queue
// meanwhile next to the same drain alone.
//
// A worker process is this file run as `node bench/scaling.bench.ts worker <url> <queue> <concurrency>`.
import { spawn as spawnProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { Absurd } from '../src/client/absurd.ts';
import { migrate } from '../src/schema/migrate.ts';
import { benchmarkServerUrl, createScratchDatabase, type ScratchDatabase } from './peers/scratch-database.ts';
import { median, round } from './peers/statistics.ts';

export interface ScalingBenchmarkOptions {
  databaseUrl?: string;
  /** Worker process counts to compare (default 1, 2, 4). */
  processCounts?: number[];
  /** Tasks each process count drains. */
  drainTasks?: number;
  /** Tasks each worker process runs at once. */
  concurrencyPerProcess?: number;
  /** Finished tasks removed by each retention path (default 1,000,000). */
  retentionTasks?: number;
  /** Tasks of the drain measured alone and during a removal. */
  retentionDrainTasks?: number;
  print?: boolean;
}

export interface WorkerProcessMeasurement {
  processes: number;
  concurrencyPerProcess: number;
  tasks: number;
  stepsPerTask: number;
  seconds: number;
  tasksPerSecond: number;
  claims: number;
  /** Claims that returned no task while pending tasks remained (another worker had them locked). */
  emptyClaimsWithWorkLeft: number;
  claimP50Ms: number;
}

export interface RetentionMeasurement {
  path: 'cleanup_tasks (unpartitioned)' | 'detach + drop partitions (partitioned)';
  finishedTasks: number;
  loadSeconds: number;
  removalSeconds: number;
  tasksRemovedPerSecond: number;
  drainAloneTasksPerSecond: number;
  drainDuringRemovalTasksPerSecond: number;
  /** The longest wait between two finished tasks of the drain, alone and while the removal ran. */
  drainAloneLongestGapMs: number;
  drainDuringRemovalLongestGapMs: number;
  /** Seconds of the drain that ran while the removal was still going. */
  drainOverlapSeconds: number;
}

export interface ScalingBenchmarkResult {
  workerProcesses: WorkerProcessMeasurement[];
  retention: RetentionMeasurement[];
}

/** What `--quick` runs: enough to see every path work, not to size a deployment. */
export const quickScalingOptions: ScalingBenchmarkOptions = { drainTasks: 300, retentionTasks: 20_000, retentionDrainTasks: 100 };

const stepsPerTask = 3;
const cleanupBatch = 10_000;

export async function runScalingBenchmarks(options: ScalingBenchmarkOptions = {}): Promise<ScalingBenchmarkResult> {
  const serverUrl = benchmarkServerUrl(options.databaseUrl);
  const scratch = await createScratchDatabase(serverUrl, 'ai_sdk_absurd_bench_scaling');
  try {
    const pool = new pg.Pool({ connectionString: scratch.url, max: 1 });
    await migrate(pool).finally(() => pool.end());
    const workerProcesses: WorkerProcessMeasurement[] = [];
    for (const processes of options.processCounts ?? [1, 2, 4]) {
      workerProcesses.push(
        await measureWorkerProcesses(scratch, processes, options.concurrencyPerProcess ?? 4, options.drainTasks ?? 2_000),
      );
    }
    const retention: RetentionMeasurement[] = [];
    for (const path of ['cleanup', 'detach'] as const) {
      retention.push(await measureRetention(scratch, path, options.retentionTasks ?? 1_000_000, options.retentionDrainTasks ?? 400));
    }
    const result = { workerProcesses, retention };
    if (options.print ?? true) printScaling(result);
    return result;
  } finally {
    await scratch.drop();
  }
}

/** Registers the benchmark task; `onFinished` hears of each execution that returned. */
function registerStepTask(absurd: Absurd, onFinished: () => void = () => {}): void {
  absurd.registerTask({ name: 'steps' }, async (params: { n: number }, ctx) => {
    let total = params.n;
    for (let step = 0; step < stepsPerTask; step++) total = await ctx.step(`step-${step}`, async () => total + step);
    onFinished();
    return { total };
  });
}

async function spawnMany(absurd: Absurd, count: number): Promise<void> {
  for (let start = 0; start < count; start += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - start) }, (_, index) => absurd.spawn('steps', { n: start + index }, { maxAttempts: 1 })),
    );
  }
}

async function measureWorkerProcesses(
  scratch: ScratchDatabase,
  processes: number,
  concurrency: number,
  tasks: number,
): Promise<WorkerProcessMeasurement> {
  const queue = `scale_${processes}p`;
  const absurd = new Absurd({ db: scratch.url, queueName: queue });
  try {
    registerStepTask(absurd);
    await absurd.createQueue();
    await spawnMany(absurd, tasks);
    const children = Array.from({ length: processes }, () => startWorkerProcess(scratch.url, queue, concurrency));
    await Promise.all(children.map((child) => child.ready));
    const started = performance.now();
    for (const child of children) child.go();
    const reports = await Promise.all(children.map((child) => child.finished));
    const seconds = (performance.now() - started) / 1_000;
    const { rows } = await absurd.database.query<{ completed: number }>(
      `select count(*)::int as completed from absurd."t_${queue}" where state = 'completed'`,
    );
    if (rows[0]?.completed !== tasks) throw new Error(`${processes} worker processes completed ${rows[0]?.completed} of ${tasks} tasks`);
    return {
      processes,
      concurrencyPerProcess: concurrency,
      tasks,
      stepsPerTask,
      seconds: round(seconds),
      tasksPerSecond: round(tasks / seconds),
      claims: reports.reduce((sum, report) => sum + report.claims, 0),
      emptyClaimsWithWorkLeft: reports.reduce((sum, report) => sum + report.emptyClaimsWithWorkLeft, 0),
      claimP50Ms: round(median(reports.flatMap((report) => report.claimMs))),
    };
  } finally {
    await absurd.close();
  }
}

interface WorkerReport {
  claims: number;
  emptyClaimsWithWorkLeft: number;
  claimMs: number[];
}

function startWorkerProcess(url: string, queue: string, concurrency: number) {
  const child = spawnProcess(process.execPath, [fileURLToPath(import.meta.url), 'worker', url, queue, String(concurrency)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let markReady!: () => void;
  let finish!: (report: WorkerReport) => void;
  let fail!: (error: Error) => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const finished = new Promise<WorkerReport>((resolve, reject) => ((finish = resolve), (fail = reject)));
  lines.on('line', (line) => {
    if (line === 'ready') markReady();
    else if (line.startsWith('{')) finish(JSON.parse(line) as WorkerReport);
  });
  child.once('exit', (code) => {
    fail(new Error(`worker process exited with code ${code} before reporting`));
    markReady();
  });
  return { ready, finished, go: () => child.stdin!.end('go\n') };
}

/** The worker process: claims and runs tasks until none is pending or running, then reports its claims. */
async function workerProcessMain(url: string, queue: string, concurrency: number): Promise<void> {
  const absurd = new Absurd({ db: url, queueName: queue, log: { log() {}, info() {}, warn() {}, error: console.error } });
  registerStepTask(absurd);
  await absurd.ready();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const report: WorkerReport = { claims: 0, emptyClaimsWithWorkLeft: 0, claimMs: [] };
  const executing = new Set<Promise<void>>();
  const workerId = `scaling:${process.pid}`;
  for (;;) {
    const capacity = concurrency - executing.size;
    if (capacity === 0) {
      await Promise.race(executing);
      continue;
    }
    const sent = performance.now();
    const tasks = await absurd.claimTasks({ batchSize: capacity, claimTimeout: 120, workerId });
    report.claimMs.push(performance.now() - sent);
    report.claims++;
    for (const task of tasks) {
      const execution: Promise<void> = absurd.executeTask(task, 120).finally(() => executing.delete(execution));
      executing.add(execution);
    }
    if (tasks.length > 0) continue;
    const { rows } = await absurd.database.query<{ pending: boolean; running: boolean }>(
      `select exists (select 1 from absurd."r_${queue}" where state = 'pending') as pending,
              exists (select 1 from absurd."r_${queue}" where state = 'running') as running`,
    );
    if (rows[0]?.pending) report.emptyClaimsWithWorkLeft++;
    else if (executing.size > 0) await Promise.race(executing);
    else if (!rows[0]?.running) break;
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await absurd.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

async function measureRetention(
  scratch: ScratchDatabase,
  path: 'cleanup' | 'detach',
  finishedTasks: number,
  drainTasks: number,
): Promise<RetentionMeasurement> {
  const queue = path === 'cleanup' ? 'retain_plain' : 'retain_parts';
  const absurd = new Absurd({ db: scratch.url, queueName: queue });
  const admin = new pg.Client({ connectionString: scratch.url });
  await admin.connect();
  const finishedAt: number[] = [];
  try {
    registerStepTask(absurd, () => finishedAt.push(performance.now()));
    await admin.query('select absurd.create_queue($1, $2)', [queue, path === 'cleanup' ? 'unpartitioned' : 'partitioned']);
    const loadStarted = performance.now();
    const week = await loadFinishedTasks(admin, queue, path, finishedTasks);
    const loadSeconds = (performance.now() - loadStarted) / 1_000;

    await drain(absurd, Math.min(50, drainTasks), finishedAt); // warm-up: connections, plans, worker start
    const drainAlone = await drain(absurd, drainTasks, finishedAt);
    const removalStarted = performance.now();
    let removalEnded = Number.POSITIVE_INFINITY;
    const removal = (path === 'cleanup' ? removeByCleanup(admin, queue) : removeByDetach(admin, queue, week!)).then(() => {
      removalEnded = performance.now();
    });
    const drainStarted = performance.now();
    const drainDuring = await drain(absurd, drainTasks, finishedAt);
    const drainEnded = performance.now();
    await removal;
    const { rows } = await admin.query<{ left: number }>(
      `select count(*)::int as left from absurd."t_${queue}" where task_name = 'finished'`,
    );
    if (rows[0]?.left !== 0) throw new Error(`${rows[0]?.left} finished tasks left in ${queue}`);
    const removalSeconds = (removalEnded - removalStarted) / 1_000;
    return {
      path: path === 'cleanup' ? 'cleanup_tasks (unpartitioned)' : 'detach + drop partitions (partitioned)',
      finishedTasks,
      loadSeconds: round(loadSeconds),
      removalSeconds: round(removalSeconds),
      tasksRemovedPerSecond: round(finishedTasks / removalSeconds),
      drainAloneTasksPerSecond: round(drainAlone.tasksPerSecond),
      drainDuringRemovalTasksPerSecond: round(drainDuring.tasksPerSecond),
      drainAloneLongestGapMs: round(drainAlone.longestGapMs),
      drainDuringRemovalLongestGapMs: round(drainDuring.longestGapMs),
      drainOverlapSeconds: round(Math.max(0, (Math.min(drainEnded, removalEnded) - drainStarted) / 1_000)),
    };
  } finally {
    await admin.end();
    await absurd.close();
  }
}

/**
 * Drains `count` fresh tasks with one in-process worker at concurrency 4, timed by the executions that
 * finished (`finishedAt`, filled by the task), so that watching the drain adds no query.
 */
async function drain(absurd: Absurd, count: number, finishedAt: number[]): Promise<{ tasksPerSecond: number; longestGapMs: number }> {
  await spawnMany(absurd, count);
  finishedAt.length = 0;
  const started = performance.now();
  const worker = await absurd.startWorker({ concurrency: 4, pollInterval: 0.01 });
  try {
    while (finishedAt.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    await worker.close();
  }
  const times = [started, ...finishedAt.slice(0, count)];
  const longestGapMs = Math.max(...times.slice(1).map((time, index) => time - times[index]!));
  return { tasksPerSecond: count / ((times.at(-1)! - started) / 1_000), longestGapMs };
}

/**
 * Writes `count` completed tasks (one run each, finished two days ago) straight into the tables. On a
 * partitioned queue their ids fall in the last weekly partition, whose tag is returned.
 */
async function loadFinishedTasks(admin: pg.Client, queue: string, path: 'cleanup' | 'detach', count: number): Promise<string | undefined> {
  let weekStart = 'absurd.current_time() - interval \'7 days\'';
  let tag: string | undefined;
  if (path === 'detach') {
    const { rows } = await admin.query<{ tag: string; lower: string }>(
      `select substring(c.relname from '_([0-9]+)$') as tag,
              absurd.uuidv7_timestamp(substring(pg_get_expr(c.relpartbound, c.oid) from '''([0-9a-f-]+)''')::uuid)::text as lower
       from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
       where p.relname = $1 and c.relname <> $2
       order by c.relname desc limit 1`,
      [`t_${queue}`, `t_${queue}_d`],
    );
    tag = rows[0]!.tag;
    weekStart = `'${rows[0]!.lower}'::timestamptz + interval '1 hour'`;
  }
  const { rows: base } = await admin.query<{ ms: string }>(`select (extract(epoch from ${weekStart}) * 1000)::bigint::text as ms`);
  // Version-7 shaped ids: 12 hex digits of milliseconds, then random bits from md5.
  const id = (prefix: string) =>
    `(lpad(to_hex(${base[0]!.ms}::bigint + i), 12, '0') || '7' || substr(md5('${prefix}' || i), 1, 3) || '8' || substr(md5('${prefix}' || i), 4, 15))::uuid`;
  for (let start = 0; start < count; start += 100_000) {
    const end = Math.min(count, start + 100_000) - 1;
    await admin.query(
      `insert into absurd."t_${queue}" (task_id, task_name, params, enqueue_at, first_started_at, state, attempts, last_attempt_run, completed_payload)
       select ${id('t')}, 'finished', '{}', now() - interval '2 days', now() - interval '2 days', 'completed', 1, ${id('r')}, '{"ok":true}'
       from generate_series(${start}, ${end}) as i`,
    );
    await admin.query(
      `insert into absurd."r_${queue}" (run_id, task_id, attempt, state, available_at, started_at, completed_at, result, created_at)
       select ${id('r')}, ${id('t')}, 1, 'completed', now() - interval '2 days', now() - interval '2 days', now() - interval '2 days', '{"ok":true}', now() - interval '2 days'
       from generate_series(${start}, ${end}) as i`,
    );
  }
  await admin.query(`vacuum analyze absurd."t_${queue}"`);
  await admin.query(`vacuum analyze absurd."r_${queue}"`);
  return tag;
}

/** What a cleanup job does: `cleanup_tasks` in batches until nothing older than the ttl is left. */
async function removeByCleanup(admin: pg.Client, queue: string): Promise<void> {
  for (;;) {
    const { rows } = await admin.query<{ deleted: number }>('select absurd.cleanup_tasks($1, 86400, $2) as deleted', [queue, cleanupBatch]);
    if ((rows[0]?.deleted ?? 0) === 0) return;
  }
}

/** Detaches the week's partition of each partitioned table of the queue and drops it. */
async function removeByDetach(admin: pg.Client, queue: string, tag: string): Promise<void> {
  for (const prefix of ['t', 'r', 'c', 'w']) {
    await admin.query(`alter table absurd."${prefix}_${queue}" detach partition absurd."${prefix}_${queue}_${tag}"`);
    const { rows } = await admin.query<{ dropped: boolean }>('select absurd.drop_detached_partition($1) as dropped', [`${prefix}_${queue}_${tag}`]);
    if (!rows[0]?.dropped) throw new Error(`drop_detached_partition did not drop ${prefix}_${queue}_${tag}`);
  }
}

function printScaling(result: ScalingBenchmarkResult): void {
  console.log('worker processes on one Postgres (each at concurrency', result.workerProcesses[0]?.concurrencyPerProcess, ')');
  for (const row of result.workerProcesses) {
    console.log(
      `  ${row.processes} process(es): ${row.tasksPerSecond} tasks/s (${row.tasks} tasks x ${row.stepsPerTask} steps in ${row.seconds} s), ` +
        `${row.claims} claims, ${row.emptyClaimsWithWorkLeft} empty with work left, claim p50 ${row.claimP50Ms} ms`,
    );
  }
  console.log('retention');
  for (const row of result.retention) {
    console.log(
      `  ${row.path}: ${row.finishedTasks} finished tasks removed in ${row.removalSeconds} s (${row.tasksRemovedPerSecond}/s; loaded in ${row.loadSeconds} s); ` +
        `drain ${row.drainAloneTasksPerSecond} tasks/s alone, ${row.drainDuringRemovalTasksPerSecond} during (${row.drainOverlapSeconds} s overlapped); ` +
        `longest gap between finished tasks ${row.drainAloneLongestGapMs} ms alone, ${row.drainDuringRemovalLongestGapMs} ms during`,
    );
  }
}

const entry = process.argv[1] ? pathToFileURL(process.argv[1]).href : '';
if (entry === import.meta.url) {
  if (process.argv[2] === 'worker') {
    await workerProcessMain(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
  } else {
    const quick = process.argv.includes('--quick');
    await runScalingBenchmarks(quick ? quickScalingOptions : {});
  }
}
