import { openai } from '@ai-sdk/openai';
import { tool } from 'ai';
import { Absurd, AbsurdAgent } from '../../src/index.ts';
import { z } from 'zod';

const absurd = new Absurd({ db: process.env.ABSURD_DATABASE_URL, queueName: 'analysis' });

const analyst = new AbsurdAgent(
  {
    id: 'analyst',
    model: openai('gpt-5-mini'),
    instructions: 'You are a financial analyst. Look up the figures you need, then answer briefly.',
    tools: {
      getRevenue: tool({
        inputSchema: z.object({ quarter: z.string() }),
        execute: async ({ quarter }) => ({ quarter, revenue: 1_200_000 }),
      }),
    },
  },
  absurd,
);

absurd.registerTask({ name: 'analyse' }, async (params: { question: string }) => {
  const result = await analyst.generate({ prompt: params.question });
  return { report: result.text };
});

await absurd.createQueue();
const worker = await absurd.startWorker({ concurrency: 8, claimTimeout: 60 });

// On deploy: stop claiming, let running tasks finish (or be resumed elsewhere if this takes too long).
process.once('SIGTERM', async () => {
  await worker.close();
  await absurd.close();
});
