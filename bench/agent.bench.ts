// What durability adds to each call of an agent, measured against the plain AI SDK agent doing the same
// work with an instant model, side by side and interleaved round by round in one run: a plain
// ToolLoopAgent, the same agent with only its model durable, and the AbsurdAgent (model and tools
// durable), on PGlite and on Postgres, with 1 KB and 20 KB model responses. Also the checkpoint bytes
// a 50-step run stores.
//
//   node bench/agent.bench.ts [--quick]
import { pathToFileURL } from 'node:url';
import { isStepCount, ToolLoopAgent } from 'ai';
import pg from 'pg';
import { AbsurdAgent } from '../src/agent/absurd-agent.ts';
import { describeCheckpoint } from '../src/agent/checkpoint-format.ts';
import { durableModel } from '../src/agent/durable-model.ts';
import { Absurd } from '../src/client/absurd.ts';
import { migrate } from '../src/schema/migrate.ts';
import { benchmarkTools, createBenchmarkModel } from './peers/benchmark-model.ts';
import { benchmarkServerUrl, createScratchDatabase, type ScratchDatabase } from './peers/scratch-database.ts';
import { median, percentile, round } from './peers/statistics.ts';

export interface AgentBenchmarkOptions {
  /** Postgres server (BENCH_DATABASE_URL, then TEST_DATABASE_URL, then the local default); a scratch database is used. */
  databaseUrl?: string;
  /** Backends to measure (default both). */
  backends?: Array<'pglite' | 'postgres'>;
  /** Model calls per run; every call but the last asks for one tool call (default 10). */
  modelCalls?: number;
  responseSizes?: number[];
  rounds?: number;
  warmupRounds?: number;
  /** Model calls of the run whose checkpoints are weighed (default 50). */
  checkpointRunSteps?: number;
  print?: boolean;
}

export interface AgentOverheadRow {
  backend: 'pglite' | 'postgres';
  responseBytes: number;
  /** Median of `generate()` for one run, in milliseconds. */
  plainRunP50Ms: number;
  modelOnlyRunP50Ms: number;
  durableRunP50Ms: number;
  /** Median over rounds of (model-only run − plain run) / model calls. */
  overheadPerModelCallP50Ms: number;
  /** Median over rounds of (durable run − model-only run) / tool calls. */
  overheadPerToolCallP50Ms: number;
  /** Median over rounds of (durable run − plain run) / all calls, with its 90th percentile. */
  overheadPerCallP50Ms: number;
  overheadPerCallP90Ms: number;
  target: number;
}

export interface CheckpointSizeResult {
  modelCalls: number;
  responseBytes: number;
  checkpoints: number;
  totalBytes: number;
  modelCallBytesP50: number;
  toolCallBytesP50: number;
  /** Stored bytes of a model checkpoint over the bytes of response text it holds. */
  modelCallBytesPerResponseByte: number;
}

export interface AgentBenchmarkResult {
  modelCalls: number;
  toolCalls: number;
  rounds: number;
  rows: AgentOverheadRow[];
  checkpointSize: CheckpointSizeResult;
}

interface Workload {
  modelCalls: number;
  responseBytes: number;
}

type Variant = 'model-only' | 'durable';

const overheadTarget = 1;

/** Runs durable variants as Absurd tasks, the way an application does: spawn, then a worker claims it. */
class DurableRunner {
  readonly absurd: Absurd;
  private last: number | undefined;

  constructor(db: string, queueName: string) {
    this.absurd = new Absurd({ db, queueName });
    this.absurd.registerTask({ name: 'agent-benchmark' }, async (params: Workload & { variant: Variant }) => {
      const agent = durableAgent(params, params.variant, this.absurd);
      const started = performance.now();
      const result = await agent.generate({ prompt: 'Report the figures.' });
      this.last = performance.now() - started;
      return { length: result.text.length };
    });
  }

  async run(workload: Workload, variant: Variant): Promise<{ generateMs: number; taskID: string }> {
    this.last = undefined;
    const { taskID } = await this.absurd.spawn('agent-benchmark', { ...workload, variant });
    await this.absurd.workBatch('agent-benchmark', 60, 1);
    if (this.last === undefined) throw new Error(`benchmark task ${taskID} did not run: ${JSON.stringify(await this.absurd.fetchTaskResult(taskID))}`);
    return { generateMs: this.last, taskID };
  }
}

function settings(workload: Workload) {
  return {
    model: createBenchmarkModel(workload),
    instructions: 'Look up every figure, then report.',
    tools: benchmarkTools(),
    stopWhen: isStepCount(workload.modelCalls + 1),
    maxRetries: 0,
  };
}

function durableAgent(workload: Workload, variant: Variant, absurd: Absurd) {
  if (variant === 'durable') return new AbsurdAgent(settings(workload), absurd, { name: 'benchmark' });
  const base = settings(workload);
  return new ToolLoopAgent({ ...base, model: durableModel(base.model, { name: 'benchmark', maxRetries: 0 }) });
}

async function runPlain(workload: Workload): Promise<number> {
  const agent = new ToolLoopAgent(settings(workload));
  const started = performance.now();
  await agent.generate({ prompt: 'Report the figures.' });
  return performance.now() - started;
}

export async function runAgentBenchmarks(options: AgentBenchmarkOptions = {}): Promise<AgentBenchmarkResult> {
  const modelCalls = options.modelCalls ?? 10;
  const rounds = options.rounds ?? 40;
  const warmupRounds = options.warmupRounds ?? 5;
  const sizes = options.responseSizes ?? [1_024, 20_480];
  const backends = options.backends ?? ['pglite', 'postgres'];
  const toolCalls = modelCalls - 1;
  const serverUrl = benchmarkServerUrl(options.databaseUrl);
  let scratch: ScratchDatabase | undefined;
  const runners = new Map<'pglite' | 'postgres', DurableRunner>();
  try {
    if (backends.includes('postgres')) {
      scratch = await createScratchDatabase(serverUrl, 'ai_sdk_absurd_bench_agent');
      const pool = new pg.Pool({ connectionString: scratch.url, max: 1 });
      await migrate(pool).finally(() => pool.end());
      runners.set('postgres', new DurableRunner(scratch.url, 'agent_bench'));
    }
    if (backends.includes('pglite')) runners.set('pglite', new DurableRunner('pglite:memory', 'agent_bench'));
    for (const runner of runners.values()) await runner.absurd.createQueue();

    const rows: AgentOverheadRow[] = [];
    for (const responseBytes of sizes) {
      const workload = { modelCalls, responseBytes };
      const samples = new Map([...runners.keys()].map((backend) => [backend, emptySamples()]));
      for (let round = 0; round < warmupRounds + rounds; round++) {
        // Interleaved: each round runs every variant once, so drift in the machine hits all of them alike.
        const plain = await runPlain(workload);
        for (const [backend, runner] of runners) {
          const modelOnly = (await runner.run(workload, 'model-only')).generateMs;
          const durable = (await runner.run(workload, 'durable')).generateMs;
          if (round < warmupRounds) continue;
          const entry = samples.get(backend)!;
          entry.plain.push(plain);
          entry.modelOnly.push(modelOnly);
          entry.durable.push(durable);
          entry.perModelCall.push((modelOnly - plain) / modelCalls);
          entry.perToolCall.push((durable - modelOnly) / toolCalls);
          entry.perCall.push((durable - plain) / (modelCalls + toolCalls));
        }
      }
      for (const [backend, entry] of samples) {
        rows.push({
          backend,
          responseBytes,
          plainRunP50Ms: round(median(entry.plain)),
          modelOnlyRunP50Ms: round(median(entry.modelOnly)),
          durableRunP50Ms: round(median(entry.durable)),
          overheadPerModelCallP50Ms: round(median(entry.perModelCall)),
          overheadPerToolCallP50Ms: round(median(entry.perToolCall)),
          overheadPerCallP50Ms: round(median(entry.perCall)),
          overheadPerCallP90Ms: round(percentile(entry.perCall, 0.9)),
          target: overheadTarget,
        });
      }
    }

    const weighed = runners.get('postgres') ?? runners.get('pglite')!;
    const checkpointSize = await measureCheckpointSize(weighed, options.checkpointRunSteps ?? 50);
    const result: AgentBenchmarkResult = { modelCalls, toolCalls, rounds, rows, checkpointSize };
    if (options.print ?? true) printResult(result);
    return result;
  } finally {
    for (const runner of runners.values()) await runner.absurd.close();
    await scratch?.drop();
  }
}

async function measureCheckpointSize(runner: DurableRunner, modelCalls: number): Promise<CheckpointSizeResult> {
  const responseBytes = 1_024;
  const { taskID } = await runner.run({ modelCalls, responseBytes }, 'durable');
  const { rows } = await runner.absurd.database.query<{ name: string; state: unknown; bytes: number }>(
    `select checkpoint_name as name, state, octet_length(state::text)::int as bytes
       from absurd.c_agent_bench where task_id = $1`,
    [taskID],
  );
  const bytesOf = (type: string) => rows.filter((row) => describeCheckpoint(row.name, row.state).type === type).map((row) => row.bytes);
  const modelBytes = bytesOf('model-call');
  return {
    modelCalls,
    responseBytes,
    checkpoints: rows.length,
    totalBytes: rows.reduce((total, row) => total + row.bytes, 0),
    modelCallBytesP50: median(modelBytes),
    toolCallBytesP50: median(bytesOf('tool-call')),
    modelCallBytesPerResponseByte: round(median(modelBytes) / responseBytes),
  };
}

function emptySamples() {
  return {
    plain: [] as number[],
    modelOnly: [] as number[],
    durable: [] as number[],
    perModelCall: [] as number[],
    perToolCall: [] as number[],
    perCall: [] as number[],
  };
}

function printResult(result: AgentBenchmarkResult): void {
  console.log(
    `\nAgent overhead: ${result.modelCalls} model calls + ${result.toolCalls} tool calls per run, instant model, ` +
      `medians of ${result.rounds} interleaved rounds (ms)\n`,
  );
  console.table(
    result.rows.map((row) => ({
      backend: row.backend,
      response: `${row.responseBytes / 1024} KB`,
      'plain run': row.plainRunP50Ms,
      'model-only run': row.modelOnlyRunP50Ms,
      'durable run': row.durableRunP50Ms,
      'per model call': row.overheadPerModelCallP50Ms,
      'per tool call': row.overheadPerToolCallP50Ms,
      'per call p50': row.overheadPerCallP50Ms,
      'per call p90': row.overheadPerCallP90Ms,
      target: `<= ${row.target}`,
    })),
  );
  const size = result.checkpointSize;
  console.log(
    `Checkpoints of a ${size.modelCalls}-step run (${size.responseBytes} B responses): ${size.checkpoints} checkpoints, ` +
      `${size.totalBytes} bytes; model call p50 ${size.modelCallBytesP50} B (${size.modelCallBytesPerResponseByte}x the response text), ` +
      `tool call p50 ${size.toolCallBytesP50} B.`,
  );
  console.log(JSON.stringify(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  await runAgentBenchmarks(quick ? { rounds: 8, warmupRounds: 2 } : {});
}
