// A worker process of the chaos suite: it drains `chaos-agent` tasks (an AbsurdAgent over the real OpenAI
// provider, pointed at the suite's local model server) until it is killed, or, on an embedded database
// that only one process may open, until no unfinished task is left.
import { appendFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { createOpenAI } from '@ai-sdk/openai';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import { fixtureOptions, sendSignal, waitToBeKilled } from '../fixtures/fixture-signal.ts';
import { chaosAgentSettings, chaosTools, type ChaosTaskParams, type ToolSideEffect } from './chaos-scenario.ts';

export interface ChaosWorkerOptions {
  /** postgres:// URL, or pglite:<directory>. */
  readonly url: string;
  readonly queue: string;
  readonly modelBaseURL: string;
  /** File every tool side effect is appended to, one JSON line each. */
  readonly effectsFile: string;
  /** Lease in whole seconds: how soon another worker takes over the runs of a killed one. */
  readonly claimTimeout: number;
  readonly concurrency: number;
  /** Exit once no task is pending, running or sleeping (for databases one process owns at a time). */
  readonly exitWhenDrained: boolean;
  /** Approve waiting tool calls from this process (where no other process can open the database). */
  readonly approveInProcess: boolean;
}

const options = fixtureOptions<ChaosWorkerOptions>();
const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: options.url, queueName: options.queue });
const provider = createOpenAI({ baseURL: options.modelBaseURL, apiKey: 'chaos-key' });

const record = (toolName: string, toolCallId: string) => {
  const effect: ToolSideEffect = { taskID: getCurrentTask()?.taskID ?? 'outside-a-task', toolName, toolCallId, pid: process.pid, at: Date.now() };
  // One small synchronous append: a kill lands before or after it, never inside it.
  appendFileSync(options.effectsFile, `${JSON.stringify(effect)}\n`);
};
const pause = () => delay(Math.floor(Math.random() * 12));

absurd.registerTask({ name: 'chaos-agent' }, async (params: ChaosTaskParams) => {
  const settings = chaosAgentSettings(provider.chat('gpt-analyst'), chaosTools({ record, pause }), params.approval);
  const agent = new AbsurdAgent(settings, absurd);
  if (params.mode === 'generate') {
    const result = await agent.generate({ prompt: params.prompt });
    return { text: result.text };
  }
  const result = await agent.stream({ prompt: params.prompt });
  for await (const part of result.fullStream) {
    if (part.type === 'error') throw part.error;
  }
  return { text: await result.text };
});

const worker = await absurd.startWorker({
  claimTimeout: options.claimTimeout,
  concurrency: options.concurrency,
  pollInterval: 0.1,
  onError: (error) => sendSignal('worker-error', { message: error.message }),
});
sendSignal('ready', { pid: process.pid });

if (options.approveInProcess) void approveWaitingCalls();
if (!options.exitWhenDrained) await waitToBeKilled();

const table = `absurd."t_${options.queue.replaceAll('"', '""')}"`;
for (;;) {
  const { rows } = await absurd.database.query<{ unfinished: number }>(
    `select count(*)::int as unfinished from ${table} where state in ('pending', 'running', 'sleeping')`,
  );
  if (rows[0]?.unfinished === 0) break;
  await delay(100);
}
await worker.close();
await absurd.close();
sendSignal('drained', { pid: process.pid });

async function approveWaitingCalls(): Promise<never> {
  const approver = absurd as unknown as {
    listPendingApprovals(filter: object): Promise<Array<{ taskID: string; toolCallId: string }>>;
    approveToolCall(options: { taskID: string; toolCallId: string; approved: boolean; reason?: string }): Promise<unknown>;
  };
  for (;;) {
    for (const pending of await approver.listPendingApprovals({}).catch(() => [])) {
      const approved = await approver
        .approveToolCall({ taskID: pending.taskID, toolCallId: pending.toolCallId, approved: true, reason: 'chaos' })
        .then(() => true, () => false);
      if (approved) sendSignal('approved', { taskID: pending.taskID, toolCallId: pending.toolCallId });
    }
    await delay(100);
  }
}
