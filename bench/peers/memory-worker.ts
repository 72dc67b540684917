// A worker process whose resident memory is measured: it imports only what its kind of worker needs
// (the AI SDK alone for the plain worker; this library, pg and absurd-sdk as well for the durable one),
// does the same agent runs, and prints its RSS after a full garbage collection.
//
//   node --expose-gc bench/peers/memory-worker.ts '{"kind":"plain","runs":300,"workload":{...}}'
import type { AgentWorkload } from './agent-workload.ts';

export interface MemoryWorkerOptions {
  kind: 'plain' | 'durable';
  runs: number;
  workload: AgentWorkload;
  /** Postgres database the durable worker uses. */
  databaseUrl?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as MemoryWorkerOptions;

if (options.kind === 'plain') {
  const { isStepCount, ToolLoopAgent } = await import('ai');
  const { benchmarkTools, createBenchmarkModel } = await import('./benchmark-model.ts');
  const agent = new ToolLoopAgent({
    model: createBenchmarkModel(options.workload),
    instructions: 'Look up every figure, then report.',
    tools: benchmarkTools(),
    stopWhen: isStepCount(options.workload.modelCalls + 1),
    maxRetries: 0,
  });
  for (let run = 0; run < options.runs; run++) await agent.generate({ prompt: 'Report the figures.' });
} else {
  const { runAgentDrain } = await import('./agent-workload.ts');
  if (!options.databaseUrl) throw new Error('the durable memory worker needs databaseUrl');
  await runAgentDrain({
    db: options.databaseUrl,
    concurrency: 1,
    tasks: options.runs,
    workload: options.workload,
    queueName: `memory_${process.pid}`,
  });
}

const gc = (globalThis as { gc?: () => void }).gc;
for (let pass = 0; pass < 3; pass++) gc?.();
await new Promise((resolve) => setTimeout(resolve, 50));
process.stdout.write(`rss-mb ${(process.memoryUsage().rss / 1024 / 1024).toFixed(1)}\n`);
