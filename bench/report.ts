// Turns one `npm run bench` run into what people read: the goal table printed at the end of the run
// and the numbers section of docs/performance.md, always with the machine and the date.
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { AgentBenchmarkResult } from './agent.bench.ts';
import type { CodecBenchmarkResult } from './codec.bench.ts';
import type { PeerBenchmarkResult } from './peers/peer-comparison.bench.ts';
import type { SchemaBenchmarkResult } from './schema.bench.ts';
import type { ThroughputBenchmarkResult } from './throughput.bench.ts';

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  platform: string;
}

export interface BenchmarkReport {
  date: string;
  machine: MachineDescription;
  quick: boolean;
  sections: {
    codec?: CodecBenchmarkResult[];
    schema?: SchemaBenchmarkResult;
    agent?: AgentBenchmarkResult;
    peers?: PeerBenchmarkResult;
    throughput?: ThroughputBenchmarkResult;
  };
  /** Sections that failed, with the error. */
  errors: Record<string, string>;
}

export interface GoalRow {
  measure: string;
  result: string;
  goal: string;
  met: boolean | undefined;
}

export const numbersStart = '<!-- benchmark-numbers:start -->';
export const numbersEnd = '<!-- benchmark-numbers:end -->';

export function describeMachine(postgresVersion: string): MachineDescription {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    postgres: postgresVersion,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Every goal of the benchmark plan with this run's result. */
export function goalRows(report: BenchmarkReport): GoalRow[] {
  const rows: GoalRow[] = [];
  const { agent, peers, throughput, schema } = report.sections;
  for (const row of agent?.rows ?? []) {
    rows.push({
      measure: `Overhead p50 per model call / per tool call, AbsurdAgent on ${backendName(row.backend)}, ${kilobytes(row.responseBytes)} responses`,
      result: `${row.overheadPerModelCallP50Ms} / ${row.overheadPerToolCallP50Ms} ms (all calls ${row.overheadPerCallP50Ms} ms)`,
      goal: `<= ${row.target} ms each`,
      met: row.overheadPerModelCallP50Ms <= row.target && row.overheadPerToolCallP50Ms <= row.target,
    });
  }
  for (const ratio of peers?.ratios ?? []) {
    rows.push({
      measure: `Overhead per call vs DBOS on the same server, ${kilobytes(ratio.responseBytes)} responses`,
      result: `${ratio.ratio}x (${ratio.absurdOverheadPerCallMs} / ${ratio.dbosOverheadPerCallMs} ms)`,
      goal: `<= ${ratio.target}x`,
      met: ratio.ratio <= ratio.target,
    });
  }
  if (throughput) {
    const { resume, memory } = throughput;
    rows.push({
      measure: `Resume of a run with ${resume.checkpoints} checkpoints, p50`,
      result: `${resume.resumeP50Ms} ms`,
      goal: `<= ${resume.target} ms`,
      met: resume.resumeP50Ms <= resume.target,
    });
    for (const latency of throughput.spawnToStart) {
      rows.push({
        measure: `Spawn to start with an idle worker, p50, ${backendName(latency.backend)}`,
        result: `${latency.p50Ms} ms`,
        goal: `<= ${latency.target} ms`,
        met: latency.p50Ms <= latency.target,
      });
    }
    rows.push({
      measure: 'Worker RSS, durable vs plain AI SDK worker',
      result: `${memory.ratio}x (${memory.durableRssMb} / ${memory.plainRssMb} MB)`,
      goal: `<= ${memory.target}x`,
      met: memory.ratio <= memory.target,
    });
  }
  if (schema) {
    rows.push({
      measure: 'Checkpoint write vs bare INSERT, p50 ratio',
      result: `${fixed(schema.checkpointWrite.ratio)}x`,
      goal: `<= ${schema.checkpointWrite.target}x`,
      met: schema.checkpointWrite.ratio <= schema.checkpointWrite.target,
    });
    rows.push({
      measure: `Claim with ${schema.claim.longPending} vs ${schema.claim.shortPending} pending, p50 ratio`,
      result: `${fixed(schema.claim.ratio)}x`,
      goal: `<= ${schema.claim.target}x`,
      met: schema.claim.ratio <= schema.claim.target,
    });
    rows.push({
      measure: `Drain of ${schema.drain.steps}-step tasks at concurrency ${schema.drain.concurrency} (Absurd worker)`,
      result: `${fixed(schema.drain.tasksPerSecond)} tasks/s (absurd-sdk's own worker: ${fixed(schema.sdkDrain.tasksPerSecond)})`,
      goal: `>= ${schema.drain.target} tasks/s`,
      met: schema.drain.tasksPerSecond >= schema.drain.target,
    });
  }
  return rows;
}

/** The markdown between the numbers markers of docs/performance.md. */
export function renderNumbersSection(report: BenchmarkReport): string {
  const { machine } = report;
  const lines: string[] = [
    `Measured ${report.date.slice(0, 10)} with \`npm run bench\` on ${machine.cpuModel} (${machine.cores} cores, ` +
      `${machine.memoryGiB} GiB), ${machine.platform}, Node ${machine.node}, PostgreSQL ${machine.postgres} on the same machine. ` +
      'Medians of interleaved samples; the full results are in `bench/results/latest.json`.',
    '',
    '### Goals',
    '',
    '| Measure | Result | Goal | Met |',
    '| --- | --- | --- | --- |',
    ...goalRows(report).map((row) => `| ${row.measure.trim()} | ${row.result} | ${row.goal} | ${row.met === undefined ? '' : row.met ? 'yes' : 'no'} |`),
  ];
  const { agent, peers, throughput, codec } = report.sections;
  if (agent) {
    const size = agent.checkpointSize;
    lines.push(
      '',
      `### Overhead per call (${agent.modelCalls} model calls and ${agent.toolCalls} tool calls per run, instant scripted model, ${agent.rounds} interleaved rounds)`,
      '',
      '| Database | Responses | Plain run | Durable run | Per call p50 | p90 | Per model call | Per tool call |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...agent.rows.map(
        (row) =>
          `| ${backendName(row.backend)} | ${kilobytes(row.responseBytes)} | ${row.plainRunP50Ms} ms | ${row.durableRunP50Ms} ms | ` +
          `${row.overheadPerCallP50Ms} ms | ${row.overheadPerCallP90Ms} ms | ${row.overheadPerModelCallP50Ms} ms | ${row.overheadPerToolCallP50Ms} ms |`,
      ),
      '',
      `A ${size.modelCalls}-step run with ${kilobytes(size.responseBytes)} responses stores ${size.checkpoints} checkpoints, ${size.totalBytes} bytes in all ` +
        `(model call p50 ${size.modelCallBytesP50} B, ${size.modelCallBytesPerResponseByte}x its response text; tool call p50 ${size.toolCallBytesP50} B).`,
    );
  }
  if (peers) {
    lines.push(
      '',
      `### Against DBOS (the same agent and server, ${peers.rounds} interleaved rounds)`,
      '',
      `DBOS ${peers.versions.dbosSdk} with @dbos-inc/vercel-ai ${peers.versions.dbosVercelAi}: ${peers.dbosIntegration}.`,
      '',
      '`generate()` is timed inside the task or workflow; end to end adds starting it (spawn and claim, or the workflow call) and recording its result.',
      '',
      '| Responses | Agent | `generate()` p50 | End to end p50 | Overhead per call | per model call | per tool call |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...peers.rows.map(
        (row) =>
          `| ${kilobytes(row.responseBytes)} | ${row.label} | ${row.generateP50Ms} ms | ${row.totalP50Ms} ms | ${ms(row.overheadPerCallP50Ms)} | ` +
          `${ms(row.overheadPerModelCallP50Ms)} | ${ms(row.overheadPerToolCallP50Ms)} |`,
      ),
    );
  }
  if (throughput) {
    lines.push(
      '',
      `### Agent task throughput (one worker; each task makes ${throughput.drain[0]?.checkpointsPerTask ?? '?'} checkpoints)`,
      '',
      '| Database | Concurrency | Tasks/s | Checkpoints/s |',
      '| --- | --- | --- | --- |',
      ...throughput.drain.map(
        (row) => `| ${backendName(row.backend)} | ${row.concurrency} | ${row.tasksPerSecond} | ${row.checkpointsPerSecond} |`,
      ),
      '',
      `Resume of a run with ${throughput.resume.checkpoints} checkpoints of ${throughput.resume.checkpointBytes} bytes: ` +
        `p50 ${throughput.resume.resumeP50Ms} ms from claim to the last checkpoint replayed (claim and load ${throughput.resume.loadP50Ms} ms; ` +
        `a bare SELECT of the same rows takes ${throughput.resume.bareSelectP50Ms} ms).`,
      '',
      `Spawn to start with an idle worker (woken by NOTIFY on Postgres, an in-process signal on PGlite; poll interval 1 s): ` +
        throughput.spawnToStart.map((row) => `${backendName(row.backend)} p50 ${row.p50Ms} ms, p90 ${row.p90Ms} ms`).join('; ') +
        '.',
      '',
      `Worker memory after ${throughput.memory.runs} agent runs, compiled JavaScript, each in its own process: plain AI SDK worker ` +
        `${throughput.memory.plainRssMb} MB RSS, durable worker on Postgres ${throughput.memory.durableRssMb} MB (${throughput.memory.ratio}x).`,
    );
  }
  if (codec) {
    lines.push('', '### Checkpoint codec', '', '| Operation | Bytes | µs per operation |', '| --- | --- | --- |');
    lines.push(...codec.map((row) => `| ${row.name} | ${row.payloadBytes} | ${fixed(row.microsecondsPerOperation)} |`));
  }
  return lines.join('\n');
}

/** Rewrites the text between the markers, or appends a "Numbers" section with them when they are missing. */
export async function updatePerformanceDoc(file: URL, section: string): Promise<void> {
  const existing = await readFile(file, 'utf8').catch(() => '# Performance\n');
  const block = `${numbersStart}\n${section}\n${numbersEnd}`;
  const start = existing.indexOf(numbersStart);
  const end = existing.indexOf(numbersEnd);
  const updated =
    start >= 0 && end > start
      ? existing.slice(0, start) + block + existing.slice(end + numbersEnd.length)
      : `${existing.trimEnd()}\n\n## Numbers\n\n${block}\n`;
  await writeFile(file, updated);
}

function backendName(backend: 'postgres' | 'pglite'): string {
  return backend === 'pglite' ? 'PGlite' : 'Postgres';
}

function kilobytes(bytes: number): string {
  return `${Math.round(bytes / 1024)} KB`;
}

function ms(value: number | undefined): string {
  return value === undefined ? '' : `${value} ms`;
}

function fixed(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}
