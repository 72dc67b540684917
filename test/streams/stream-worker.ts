// A worker process for the stream crash tests: it runs the `analyse` task (an AbsurdAgent over the real OpenAI
// provider, pointed at the test's local server) with `agent.stream()`, which publishes to the task's durable
// stream, until the task ends, or stops at a requested point and waits there to be killed. With `relayFrom`,
// it also reads the task's stream in this process and relays every chunk to the test (an on-disk PGlite
// directory has one owner, so a reader of it lives where the worker lives).
import { setTimeout as delay } from 'node:timers/promises';
import { createOpenAI } from '@ai-sdk/openai';
import { tool, type UIMessageChunk } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { fixtureOptions, sendSignal, waitToBeKilled } from '../fixtures/fixture-signal.ts';
import { observeCheckpointWrites } from '../fixtures/observed-database.ts';

export interface StreamWorkerOptions {
  readonly url: string;
  readonly queue: string;
  readonly taskID: string;
  readonly modelBaseURL: string;
  readonly claimTimeout: number;
  /** Stops right after the checkpoint whose name matches this regular expression is written. */
  readonly hangAfterCheckpoint?: string;
  /** Stops inside this tool, before its side effect. */
  readonly hangInTool?: string;
  /** The handler throws after its stream, on every attempt. */
  readonly failAfterStream?: boolean;
  /** Relays the task's durable stream from this index as `stream-chunk` signals. */
  readonly relayFrom?: number;
}

const options = fixtureOptions<StreamWorkerOptions>();
const { database } = openDatabase(options.url);
const observed = observeCheckpointWrites(database, async ({ stepName }) => {
  if (options.hangAfterCheckpoint && new RegExp(options.hangAfterCheckpoint).test(stepName)) {
    sendSignal('hanging', { after: stepName });
    await waitToBeKilled();
  }
});
const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: observed, queueName: options.queue });
const provider = createOpenAI({ baseURL: options.modelBaseURL, apiKey: 'test-key' });

const hangIn = async (toolName: string) => {
  if (options.hangInTool !== toolName) return;
  sendSignal('hanging', { inTool: toolName });
  await waitToBeKilled();
};

const agent = new AbsurdAgent(
  {
    id: 'analyst',
    model: provider.chat('gpt-analyst'),
    instructions: 'You are a financial analyst. Look up the revenue of every quarter named, record one note, then report.',
    tools: {
      getRevenue: tool({
        description: 'Revenue of one quarter, in dollars.',
        inputSchema: z.object({ quarter: z.string() }),
        execute: async (input) => {
          await hangIn('getRevenue');
          return { quarter: input.quarter, revenue: Number(input.quarter.slice(1)) * 1000 };
        },
      }),
      recordNote: tool({
        description: 'Saves a note for the finance team.',
        inputSchema: z.object({ text: z.string() }),
        execute: async () => {
          await hangIn('recordNote');
          return { saved: true };
        },
      }),
    },
  },
  absurd,
);

absurd.registerTask({ name: 'analyse' }, async (params: { prompt: string }) => {
  const result = await agent.stream({ prompt: params.prompt });
  let text = '';
  for await (const delta of result.textStream) text += delta;
  if (options.failAfterStream) throw new Error('The report could not be filed.');
  return { text, steps: (await result.steps).length };
});

const relayed =
  options.relayFrom === undefined
    ? Promise.resolve()
    : (async () => {
        let index = options.relayFrom!;
        const stream = absurd.readStream(options.taskID, { startIndex: index, pollIntervalMs: 200 });
        for await (const chunk of stream as unknown as AsyncIterable<UIMessageChunk>) {
          sendSignal('stream-chunk', { index: index++, chunk });
        }
        sendSignal('stream-closed', { next: index });
      })();

const worker = await absurd.startWorker({
  claimTimeout: options.claimTimeout,
  pollInterval: 0.1,
  onError: (error) => sendSignal('worker-error', { message: error.message }),
});
sendSignal('ready', { pid: process.pid });

for (;;) {
  const snapshot = await absurd.fetchTaskResult(options.taskID);
  if (snapshot && (snapshot.state === 'completed' || snapshot.state === 'failed' || snapshot.state === 'cancelled')) break;
  await delay(100);
}
await relayed;
await worker.close();
await absurd.close();
await database.close();
sendSignal('task-finished', {});
