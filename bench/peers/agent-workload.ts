// The agent work every benchmark in this folder times: the instant scripted model and the cheap
// `lookup` tool, run by a plain ToolLoopAgent or durably by AbsurdAgent inside Absurd tasks.
import { isStepCount, ToolLoopAgent } from 'ai';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { benchmarkTools, createBenchmarkModel } from './benchmark-model.ts';

export interface AgentWorkload {
  /** Model calls per run; every call but the last asks for one tool call. */
  readonly modelCalls: number;
  /** Approximate bytes of text in each model response. */
  readonly responseBytes: number;
}

/** Calls (model and tool) one run of the workload makes. */
export function callsPerRun(workload: AgentWorkload): number {
  return workload.modelCalls * 2 - 1;
}

function agentSettings(workload: AgentWorkload) {
  return {
    model: createBenchmarkModel(workload),
    instructions: 'Look up every figure, then report.',
    tools: benchmarkTools(),
    stopWhen: isStepCount(workload.modelCalls + 1),
    maxRetries: 0,
  };
}

export function createPlainAgent(workload: AgentWorkload): ToolLoopAgent {
  return new ToolLoopAgent(agentSettings(workload));
}

/** The same agent made durable: every model call and tool call becomes a checkpoint of the current task. */
export function createDurableAgent(workload: AgentWorkload, absurd: Absurd): AbsurdAgent {
  return new AbsurdAgent(agentSettings(workload), absurd, { name: 'benchmark' });
}

export interface AgentDrainOptions {
  /** What `new Absurd({ db })` takes. */
  readonly db: string;
  readonly concurrency: number;
  readonly tasks: number;
  readonly workload: AgentWorkload;
  readonly queueName?: string;
}

/** Spawns `tasks` agent tasks, then times one worker at `concurrency` draining them. */
export async function runAgentDrain(options: AgentDrainOptions): Promise<{ seconds: number; checkpoints: number }> {
  const queueName = options.queueName ?? `drain_${options.concurrency}_${Date.now().toString(36)}`;
  let remaining = options.tasks;
  let drained: () => void = () => {};
  const allDone = new Promise<void>((resolve) => (drained = resolve));
  const absurd = new Absurd({
    db: options.db,
    queueName,
    hooks: {
      // `execute` includes the write that completes the run, so a task counts once it is stored as done.
      wrapTaskExecution: async (_ctx, execute) => {
        const result = await execute();
        remaining -= 1;
        if (remaining === 0) drained();
        return result;
      },
    },
  });
  const agent = createDurableAgent(options.workload, absurd);
  absurd.registerTask({ name: 'agent' }, async () => {
    const result = await agent.generate({ prompt: 'Report the figures.' });
    return { length: result.text.length };
  });
  try {
    await absurd.createQueue();
    for (let task = 0; task < options.tasks; task++) await absurd.spawn('agent', { task });
    const started = performance.now();
    const worker = await absurd.startWorker({ concurrency: options.concurrency, pollInterval: 0.05 });
    await allDone;
    const seconds = (performance.now() - started) / 1_000;
    await worker.close();
    const { rows } = await absurd.database.query<{ count: number }>(
      `select count(*)::int as count from absurd."c_${queueName.replaceAll('"', '""')}"`,
    );
    return { seconds, checkpoints: rows[0]?.count ?? 0 };
  } finally {
    await absurd.close();
  }
}
