// `npm run bench`: every benchmark side by side in one run on one machine, a summary table with the
// goals, the full results in bench/results/latest.json, and the numbers section of
// docs/performance.md rewritten with the machine and the date. Quick or partial runs write
// bench/results/partial.json and leave both alone.
//
//   npm run bench                        everything (a few minutes on 2 cores)
//   npm run bench -- --quick             fewer samples, for a smoke check
//   npm run bench -- --only peers,codec  some sections (codec, schema, raw-sdk, agent, peers, throughput, streams, multi-agent, ledger, scaling)
//   npm run bench -- --no-docs           leave docs/performance.md alone
//
// The Postgres server is BENCH_DATABASE_URL, then TEST_DATABASE_URL, then postgres://postgres@127.0.0.1:5432/postgres;
// each benchmark works in scratch databases it creates there and drops.
import { mkdir, writeFile } from 'node:fs/promises';
import { redactUrl } from '../src/db/redact-url.ts';
import { runAgentBenchmarks } from './agent.bench.ts';
import { runCodecBenchmarks } from './codec.bench.ts';
import { runLedgerBenchmarks } from './ledger.bench.ts';
import { runMultiAgentBenchmarks } from './multi-agent.bench.ts';
import { runPeerBenchmarks } from './peers/peer-comparison.bench.ts';
import { benchmarkServerUrl, serverVersion } from './peers/scratch-database.ts';
import { describeMachine, goalRows, renderNumbersSection, updatePerformanceDoc, type BenchmarkReport } from './report.ts';
import { runRawSdkBenchmarks } from './raw-sdk.bench.ts';
import { runSchemaBenchmarks } from './schema.bench.ts';
import { runStreamBenchmarks } from './stream.bench.ts';
import { runThroughputBenchmarks } from './throughput.bench.ts';
import { quickScalingOptions, runScalingBenchmarks } from './scaling.bench.ts';

const sectionNames = ['codec', 'schema', 'raw-sdk', 'agent', 'peers', 'throughput', 'streams', 'multi-agent', 'ledger', 'scaling'] as const;
type SectionName = (typeof sectionNames)[number];

interface Arguments {
  quick: boolean;
  docs: boolean;
  only: Set<SectionName>;
}

function parseArguments(argv: string[]): Arguments {
  const parsed: Arguments = { quick: false, docs: true, only: new Set(sectionNames) };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--quick') parsed.quick = true;
    else if (argument === '--no-docs') parsed.docs = false;
    else if (argument === '--only') {
      const names = (argv[++index] ?? '').split(',').filter(Boolean);
      const unknown = names.filter((name) => !(sectionNames as readonly string[]).includes(name));
      if (unknown.length > 0) throw new Error(`Unknown benchmark section(s) ${unknown.join(', ')}; choose from ${sectionNames.join(', ')}.`);
      parsed.only = new Set(names as SectionName[]);
    } else {
      throw new Error(`Unknown argument ${argument}. Use --quick, --only <sections>, --no-docs.`);
    }
  }
  return parsed;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const databaseUrl = benchmarkServerUrl();
  const postgresVersion = await serverVersion(databaseUrl);
  if (!postgresVersion) {
    throw new Error(
      `Cannot reach Postgres at ${redactUrl(databaseUrl)}. ` +
        'Start it, or point BENCH_DATABASE_URL at a server where databases may be created.',
    );
  }
  const quick = options.quick;
  const report: BenchmarkReport = {
    date: new Date().toISOString(),
    machine: describeMachine(postgresVersion),
    quick,
    sections: {},
    errors: {},
  };
  const started = performance.now();
  const run = async <T>(name: SectionName, body: () => Promise<T> | T) => {
    if (!options.only.has(name)) return;
    console.log(`\n== ${name} ==`);
    const sectionStarted = performance.now();
    try {
      (report.sections as Record<string, unknown>)[name] = await body();
    } catch (error) {
      report.errors[name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`benchmark section ${name} failed:`, error);
    }
    console.log(`(${name}: ${((performance.now() - sectionStarted) / 1_000).toFixed(1)} s)`);
  };

  await run('codec', () => runCodecBenchmarks());
  await run('schema', () =>
    runSchemaBenchmarks(
      quick
        ? { databaseUrl, checkpointSamples: 500, longQueuePending: 10_000, claimSamples: 200, drainTasks: 300 }
        : { databaseUrl },
    ),
  );
  await run('raw-sdk', () =>
    runRawSdkBenchmarks(quick ? { databaseUrl, functionSamples: 300, stepSamples: 300, claimBacklogs: [10, 5_000], claimSamples: 100, drainTasks: 300 } : { databaseUrl }),
  );
  await run('agent', () => runAgentBenchmarks(quick ? { databaseUrl, rounds: 8, warmupRounds: 2 } : { databaseUrl }));
  // The agent section measures AbsurdAgent on PGlite; the peer comparison keeps to the server both share.
  await run('peers', () =>
    runPeerBenchmarks(quick ? { databaseUrl, rounds: 8, warmupRounds: 2, pglite: false } : { databaseUrl, pglite: false }),
  );
  await run('throughput', () =>
    runThroughputBenchmarks(
      quick ? { databaseUrl, drainTasks: 40, resumeSamples: 4, latencySamples: 40, memoryRuns: 60 } : { databaseUrl },
    ),
  );
  await run('streams', () =>
    runStreamBenchmarks(quick ? { databaseUrl, rounds: 6, warmupRounds: 2, latencySamples: 40 } : { databaseUrl }),
  );
  await run('multi-agent', () => runMultiAgentBenchmarks({ databaseUrl, samples: quick ? 10 : 40 }));
  await run('ledger', () => runLedgerBenchmarks(quick ? { databaseUrl, runs: 8, samples: 10 } : { databaseUrl }));
  await run('scaling', () =>
    runScalingBenchmarks(quick ? { databaseUrl, ...quickScalingOptions } : { databaseUrl }),
  );

  console.log(`\n== summary (${((performance.now() - started) / 1_000).toFixed(0)} s) ==`);
  console.log(`${report.machine.cpuModel}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}, PostgreSQL ${report.machine.postgres}`);
  for (const goal of goalRows(report)) {
    const verdict = goal.met === undefined ? '' : goal.met ? 'met' : 'NOT MET';
    console.log(`  ${goal.measure.padEnd(64)} ${goal.result.padStart(16)}  goal ${goal.goal.padEnd(22)} ${verdict}`);
  }

  // Only a full run replaces the recorded results; a quick or partial one is kept apart.
  const complete = !quick && Object.keys(report.errors).length === 0 && options.only.size === sectionNames.length;
  const resultsFile = complete ? 'latest.json' : 'partial.json';
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL(`./results/${resultsFile}`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote bench/results/${resultsFile}`);
  if (options.docs && complete) {
    await updatePerformanceDoc(new URL('../docs/performance.md', import.meta.url), renderNumbersSection(report));
    console.log('updated the numbers section of docs/performance.md');
  } else if (options.docs) {
    console.log('docs/performance.md left unchanged (only a full run without errors and without --quick updates it)');
  }
  if (Object.keys(report.errors).length > 0) process.exitCode = 1;
}

await main();
