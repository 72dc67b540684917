// The closest peer, run the way its documentation describes for the AI SDK: the model wrapped with
// `@dbos-inc/vercel-ai`'s `durableCalls` middleware (one DBOS step per model call), each tool's
// work inside `DBOS.runStep`, and the agent run inside a DBOS workflow. DBOS keeps its state in a
// system database of its own, created for the benchmark on the same Postgres server and dropped after.
import { readFile } from 'node:fs/promises';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { durableCalls } from '@dbos-inc/vercel-ai';
import { isStepCount, ToolLoopAgent, wrapLanguageModel } from 'ai';
import { benchmarkTools, createBenchmarkModel } from './benchmark-model.ts';
import { createScratchDatabase } from './scratch-database.ts';

export interface PeerRunResult {
  /** Milliseconds spent in `agent.generate()` inside the workflow (model calls, tool calls, checkpoints). */
  readonly generateMs: number;
  /** Milliseconds from calling the workflow to its result, workflow bookkeeping included. */
  readonly totalMs: number;
  readonly textLength: number;
  /** The run's workflow id (DBOS) or task id (Absurd). */
  readonly runID: string;
}

export interface DbosAgentPeer {
  /** The DBOS system database, on the same server as the one the benchmark was given. */
  readonly systemDatabaseUrl: string;
  /** One agent run; `modelOnly` leaves the tools undecorated, so only model calls are steps. */
  run(options: { modelCalls: number; responseBytes: number; modelOnly?: boolean }): Promise<PeerRunResult>;
  /** How many steps DBOS recorded for a workflow: proves the calls were really checkpointed. */
  countSteps(workflowID: string): Promise<number>;
  close(): Promise<void>;
}

/** Package versions as installed, for the results table. */
export async function dbosVersions(): Promise<{ sdk: string; vercelAi: string }> {
  // Neither package exports its package.json, so read it from the install.
  const read = async (name: string) =>
    (JSON.parse(await readFile(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  return { sdk: await read('@dbos-inc/dbos-sdk'), vercelAi: await read('@dbos-inc/vercel-ai') };
}

/** Creates a dedicated DBOS system database on `serverUrl`'s server and launches DBOS against it. */
export async function startDbosAgentPeer(serverUrl: string): Promise<DbosAgentPeer> {
  const systemDatabase = await createScratchDatabase(serverUrl, 'ai_sdk_absurd_bench_dbos');
  const systemDatabaseUrl = systemDatabase.url;

  const agentWorkflow = DBOS.registerWorkflow(
    async (modelCalls: number, responseBytes: number, modelOnly: boolean) => {
      const model = wrapLanguageModel({
        model: createBenchmarkModel({ modelCalls, responseBytes }),
        middleware: durableCalls({ retriesAllowed: false }),
      });
      const agent = new ToolLoopAgent({
        model,
        instructions: 'Look up every figure, then report.',
        tools: modelOnly ? benchmarkTools() : benchmarkTools((name, body) => DBOS.runStep(body, { name })),
        stopWhen: isStepCount(modelCalls + 1),
        maxRetries: 0,
      });
      const started = performance.now();
      const result = await agent.generate({ prompt: 'Report the figures.' });
      return { generateMs: performance.now() - started, textLength: result.text.length, runID: DBOS.workflowID ?? '' };
    },
    { name: 'benchmarkAgent' },
  );

  DBOS.setConfig({ name: 'ai-sdk-absurd-benchmark', systemDatabaseUrl, logLevel: 'error', runAdminServer: false });
  try {
    await DBOS.launch();
  } catch (error) {
    await systemDatabase.drop();
    throw error;
  }

  return {
    systemDatabaseUrl,
    async run({ modelCalls, responseBytes, modelOnly = false }) {
      const started = performance.now();
      const result = await agentWorkflow(modelCalls, responseBytes, modelOnly);
      return { ...result, totalMs: performance.now() - started };
    },
    async countSteps(workflowID) {
      return (await DBOS.listWorkflowSteps(workflowID))?.length ?? 0;
    },
    async close() {
      await DBOS.shutdown({ deregister: true });
      await systemDatabase.drop();
    },
  };
}
