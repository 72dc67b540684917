// A worker process for the budget crash test: an agent with a token budget whose model (the local
// OpenAI-compatible server) asks for one more `work` call on every turn. It signals each tool execution,
// so the test can SIGKILL it mid-run (held inside one tool call, with no model call in flight), and otherwise works until the task ends.
import { setTimeout as delay } from 'node:timers/promises';
import { createOpenAI } from '@ai-sdk/openai';
import { stepCountIs, tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { fixtureOptions, sendSignal } from '../fixtures/fixture-signal.ts';

export interface BudgetWorkerOptions {
  readonly url: string;
  readonly queue: string;
  readonly taskID: string;
  readonly modelBaseURL: string;
  readonly tokens: number;
  readonly claimTimeout: number;
  /** The tool call that never returns, so a kill lands there and no further model call is in flight. */
  readonly holdAtWork?: number;
}

const options = fixtureOptions<BudgetWorkerOptions>();
const absurd = new Absurd({ db: options.url, queueName: options.queue });
const provider = createOpenAI({ baseURL: options.modelBaseURL, apiKey: 'test-key' });

const agent = new AbsurdAgent(
  {
    id: 'spender',
    model: provider.chat('gpt-spender'),
    stopWhen: stepCountIs(200),
    budget: { tokens: options.tokens },
    tools: {
      work: tool({
        description: 'Does one unit of work.',
        inputSchema: z.object({ n: z.number() }),
        execute: async ({ n }) => {
          sendSignal('worked', { n });
          if (n === options.holdAtWork) await new Promise(() => {});
          return `did ${n}`;
        },
      }),
    },
  },
  absurd,
);

absurd.registerTask({ name: 'spend' }, async () => ({ text: (await agent.generate({ prompt: 'Work until told to stop.' })).text }));

const worker = await absurd.startWorker({ claimTimeout: options.claimTimeout, pollInterval: 0.1 });
for (;;) {
  const snapshot = await absurd.fetchTaskResult(options.taskID);
  if (snapshot && ['completed', 'failed', 'cancelled'].includes(snapshot.state)) {
    sendSignal('task-finished', { state: snapshot.state });
    break;
  }
  await delay(100);
}
await worker.close();
await absurd.close();
