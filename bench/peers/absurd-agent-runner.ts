// Runs the benchmark agent durably, one Absurd task per run, the way an application would: spawn,
// then a worker claims and executes it. The agent is AbsurdAgent (model and tool calls checkpointed)
// or, for the model-only variant, a ToolLoopAgent over `durableModel` with undecorated tools.
import { isStepCount, ToolLoopAgent } from 'ai';
import { durableModel } from '../../src/agent/durable-model.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { createDurableAgent, type AgentWorkload } from './agent-workload.ts';
import { benchmarkTools, createBenchmarkModel } from './benchmark-model.ts';
import type { PeerRunResult } from './dbos-agent.ts';

export interface AbsurdAgentRunner {
  run(options: AgentWorkload & { modelOnly?: boolean }): Promise<PeerRunResult>;
  /** Checkpoints stored for a task: proves the calls were really checkpointed. */
  countCheckpoints(taskID: string): Promise<number>;
  close(): Promise<void>;
}

interface RunParams extends AgentWorkload {
  modelOnly: boolean;
}

/** `db` is what `new Absurd({ db })` takes; the queue is created here. */
export async function startAbsurdAgentRunner(db: string, queueName: string): Promise<AbsurdAgentRunner> {
  const absurd = new Absurd({ db, queueName });
  let last: { generateMs: number; textLength: number } | undefined;
  absurd.registerTask({ name: 'benchmark-agent' }, async (params: RunParams) => {
    const workload = { modelCalls: params.modelCalls, responseBytes: params.responseBytes };
    const agent = params.modelOnly
      ? new ToolLoopAgent({
          model: durableModel(createBenchmarkModel(workload), { name: 'benchmark', maxRetries: 0 }),
          instructions: 'Look up every figure, then report.',
          tools: benchmarkTools(),
          stopWhen: isStepCount(workload.modelCalls + 1),
          maxRetries: 0,
        })
      : createDurableAgent(workload, absurd);
    const started = performance.now();
    const result = await agent.generate({ prompt: 'Report the figures.' });
    last = { generateMs: performance.now() - started, textLength: result.text.length };
    return { textLength: result.text.length };
  });
  await absurd.createQueue();
  return {
    async run({ modelCalls, responseBytes, modelOnly = false }) {
      last = undefined;
      const started = performance.now();
      const { taskID } = await absurd.spawn('benchmark-agent', { modelCalls, responseBytes, modelOnly });
      await absurd.workBatch('peer-benchmark', 60, 1);
      const totalMs = performance.now() - started;
      if (!last) throw new Error(`benchmark task ${taskID} did not run (${JSON.stringify(await absurd.fetchTaskResult(taskID))})`);
      const measured: { generateMs: number; textLength: number } = last;
      return { ...measured, totalMs, runID: taskID };
    },
    async countCheckpoints(taskID) {
      const { rows } = await absurd.database.query<{ count: number }>(
        `select count(*)::int as count from absurd."c_${queueName.replaceAll('"', '""')}" where task_id = $1`,
        [taskID],
      );
      return rows[0]?.count ?? 0;
    },
    close: () => absurd.close(),
  };
}
