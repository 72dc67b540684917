// Side by side, in one process and interleaved round by round: the plain ToolLoopAgent, the same agent
// made durable by ai-sdk-absurd (on Postgres and on embedded PGlite), and the closest peer, DBOS with
// `@dbos-inc/vercel-ai`, on the same Postgres server. Each durable variant also runs "model only" (model
// calls checkpointed, tools left plain), which splits the overhead into a per-model-call and a
// per-tool-call part. Overhead is paired per round: (durable run − plain run) / calls.
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { migrate } from '../../src/schema/migrate.ts';
import { startAbsurdAgentRunner, type AbsurdAgentRunner } from './absurd-agent-runner.ts';
import { callsPerRun, createPlainAgent, type AgentWorkload } from './agent-workload.ts';
import { dbosVersions, startDbosAgentPeer, type DbosAgentPeer, type PeerRunResult } from './dbos-agent.ts';
import { benchmarkServerUrl, createScratchDatabase } from './scratch-database.ts';
import { median, round } from './statistics.ts';

export interface PeerBenchmarkOptions {
  /** Postgres server; a scratch database for Absurd and one for DBOS are created there and dropped after. */
  databaseUrl?: string;
  /** Model calls per agent run (each but the last asks for one tool call). */
  modelCalls?: number;
  responseSizes?: number[];
  /** Measured rounds per response size (after `warmupRounds`). */
  rounds?: number;
  warmupRounds?: number;
  /** Include AbsurdAgent on embedded PGlite (default true). */
  pglite?: boolean;
  print?: boolean;
}

export type PeerVariant = 'plain' | 'absurd-postgres' | 'absurd-pglite' | 'dbos';

export interface PeerComparisonRow {
  responseBytes: number;
  variant: PeerVariant;
  label: string;
  /** Median milliseconds of `agent.generate()` for one run. */
  generateP50Ms: number;
  /** Median milliseconds per run end to end (spawn or workflow call to result). */
  totalP50Ms: number;
  /** Median over rounds of (this run − the plain run of the same round) / calls per run. */
  overheadPerCallP50Ms?: number;
  overheadPerModelCallP50Ms?: number;
  overheadPerToolCallP50Ms?: number;
}

export interface PeerBenchmarkResult {
  versions: { dbosSdk: string; dbosVercelAi: string };
  dbosIntegration: string;
  modelCalls: number;
  toolCalls: number;
  rounds: number;
  rows: PeerComparisonRow[];
  /** AbsurdAgent on Postgres against DBOS on the same server, per response size. */
  ratios: Array<{ responseBytes: number; absurdOverheadPerCallMs: number; dbosOverheadPerCallMs: number; ratio: number; target: number }>;
}

const labels: Record<PeerVariant, string> = {
  plain: 'plain ToolLoopAgent',
  'absurd-postgres': 'AbsurdAgent on Postgres',
  'absurd-pglite': 'AbsurdAgent on PGlite',
  dbos: 'DBOS + @dbos-inc/vercel-ai on Postgres',
};

interface Samples {
  generate: number[];
  total: number[];
  overheadPerCall: number[];
  overheadPerModelCall: number[];
  overheadPerToolCall: number[];
}

export async function runPeerBenchmarks(options: PeerBenchmarkOptions = {}): Promise<PeerBenchmarkResult> {
  const serverUrl = benchmarkServerUrl(options.databaseUrl);
  const modelCalls = options.modelCalls ?? 10;
  const rounds = options.rounds ?? 30;
  const warmupRounds = options.warmupRounds ?? 5;
  const sizes = options.responseSizes ?? [1_024, 20_480];
  const withPGlite = options.pglite ?? true;
  const versions = await dbosVersions();

  const scratch = await createScratchDatabase(serverUrl, 'ai_sdk_absurd_bench_peers');
  const runners: Partial<Record<'absurd-postgres' | 'absurd-pglite', AbsurdAgentRunner>> = {};
  let dbos: DbosAgentPeer | undefined;
  try {
    const pool = new pg.Pool({ connectionString: scratch.url, max: 1 });
    await migrate(pool).finally(() => pool.end());
    runners['absurd-postgres'] = await startAbsurdAgentRunner(scratch.url, 'peers');
    if (withPGlite) runners['absurd-pglite'] = await startAbsurdAgentRunner('pglite:memory', 'peers');
    dbos = await startDbosAgentPeer(serverUrl);

    const rows: PeerComparisonRow[] = [];
    const ratios: PeerBenchmarkResult['ratios'] = [];
    for (const responseBytes of sizes) {
      const workload: AgentWorkload = { modelCalls, responseBytes };
      await verifyCheckpointing(workload, runners, dbos);
      const variants = Object.keys(runners) as Array<'absurd-postgres' | 'absurd-pglite'>;
      const samples = new Map<PeerVariant, Samples>(
        (['plain', ...variants, 'dbos'] as PeerVariant[]).map((variant) => [variant, emptySamples()]),
      );
      for (let round = 0; round < warmupRounds + rounds; round++) {
        const plain = await runPlain(workload);
        const measured = new Map<PeerVariant, { full: PeerRunResult; modelOnly: PeerRunResult }>();
        for (const variant of variants) {
          const runner = runners[variant]!;
          measured.set(variant, { full: await runner.run(workload), modelOnly: await runner.run({ ...workload, modelOnly: true }) });
        }
        measured.set('dbos', { full: await dbos.run(workload), modelOnly: await dbos.run({ ...workload, modelOnly: true }) });
        if (round < warmupRounds) continue;
        record(samples.get('plain')!, plain);
        for (const [variant, { full, modelOnly }] of measured) {
          const entry = samples.get(variant)!;
          record(entry, full);
          entry.overheadPerCall.push((full.generateMs - plain.generateMs) / callsPerRun(workload));
          entry.overheadPerModelCall.push((modelOnly.generateMs - plain.generateMs) / modelCalls);
          entry.overheadPerToolCall.push((full.generateMs - modelOnly.generateMs) / (modelCalls - 1));
        }
      }
      for (const [variant, entry] of samples) {
        const row: PeerComparisonRow = {
          responseBytes,
          variant,
          label: labels[variant],
          generateP50Ms: round(median(entry.generate)),
          totalP50Ms: round(median(entry.total)),
        };
        if (variant !== 'plain') {
          row.overheadPerCallP50Ms = round(median(entry.overheadPerCall));
          row.overheadPerModelCallP50Ms = round(median(entry.overheadPerModelCall));
          row.overheadPerToolCallP50Ms = round(median(entry.overheadPerToolCall));
        }
        rows.push(row);
      }
      const absurdOverhead = median(samples.get('absurd-postgres')!.overheadPerCall);
      const dbosOverhead = median(samples.get('dbos')!.overheadPerCall);
      ratios.push({
        responseBytes,
        absurdOverheadPerCallMs: round(absurdOverhead),
        dbosOverheadPerCallMs: round(dbosOverhead),
        ratio: round(absurdOverhead / dbosOverhead),
        target: 0.7,
      });
    }
    const result: PeerBenchmarkResult = {
      versions: { dbosSdk: versions.sdk, dbosVercelAi: versions.vercelAi },
      dbosIntegration: "@dbos-inc/vercel-ai durableCalls() middleware on the model, each tool's work in DBOS.runStep(), the run in a DBOS workflow",
      modelCalls,
      toolCalls: modelCalls - 1,
      rounds,
      rows,
      ratios,
    };
    if (options.print ?? true) printPeerComparison(result);
    return result;
  } finally {
    await dbos?.close();
    for (const runner of Object.values(runners)) await runner.close();
    await scratch.drop();
  }
}

function emptySamples(): Samples {
  return { generate: [], total: [], overheadPerCall: [], overheadPerModelCall: [], overheadPerToolCall: [] };
}

function record(entry: Samples, run: PeerRunResult): void {
  entry.generate.push(run.generateMs);
  entry.total.push(run.totalMs);
}

async function runPlain(workload: AgentWorkload): Promise<PeerRunResult> {
  const agent = createPlainAgent(workload);
  const started = performance.now();
  const result = await agent.generate({ prompt: 'Report the figures.' });
  const generateMs = performance.now() - started;
  return { generateMs, totalMs: generateMs, textLength: result.text.length, runID: '' };
}

/** Refuses to compare unless every durable variant really stored one checkpoint per call. */
async function verifyCheckpointing(
  workload: AgentWorkload,
  runners: Partial<Record<string, AbsurdAgentRunner>>,
  dbos: DbosAgentPeer,
): Promise<void> {
  const expected = callsPerRun(workload);
  for (const [variant, runner] of Object.entries(runners)) {
    const run = await runner!.run(workload);
    const stored = await runner!.countCheckpoints(run.runID);
    if (stored !== expected) throw new Error(`${variant} stored ${stored} checkpoints for ${expected} calls`);
  }
  const run = await dbos.run(workload);
  const steps = await dbos.countSteps(run.runID);
  if (steps !== expected) throw new Error(`DBOS recorded ${steps} steps for ${expected} calls`);
}

function printPeerComparison(result: PeerBenchmarkResult): void {
  console.log(
    `per-call overhead: ${result.modelCalls} model calls + ${result.toolCalls} tool calls per run, instant scripted model, ` +
      `${result.rounds} interleaved rounds (DBOS ${result.versions.dbosSdk}, @dbos-inc/vercel-ai ${result.versions.dbosVercelAi})`,
  );
  for (const row of result.rows) {
    const overhead =
      row.overheadPerCallP50Ms === undefined
        ? ''
        : `  overhead/call ${row.overheadPerCallP50Ms} ms (model ${row.overheadPerModelCallP50Ms}, tool ${row.overheadPerToolCallP50Ms})`;
    console.log(
      `  ${String(row.responseBytes).padStart(6)} B  ${row.label.padEnd(40)} generate p50 ${String(row.generateP50Ms).padStart(7)} ms  run p50 ${String(row.totalP50Ms).padStart(7)} ms${overhead}`,
    );
  }
  for (const ratio of result.ratios) {
    console.log(
      `  ${String(ratio.responseBytes).padStart(6)} B  AbsurdAgent/DBOS overhead per call: ${ratio.absurdOverheadPerCallMs} / ${ratio.dbosOverheadPerCallMs} ms = ${ratio.ratio}x (target <= ${ratio.target}x)`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runPeerBenchmarks();
