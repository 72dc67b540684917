// A tool that waits for a person. `recordNote` needs approval: when the model asks for it, the task records the
// request and suspends, holding no worker. A decision (here made in code; in an application from a UI, or with
// `npx ai-sdk-absurd approve <task> <tool call>`) wakes it on any worker, and the approved tool runs once.
//
//   node examples/approval.ts               (embedded database in ./.data, or ABSURD_DATABASE_URL)
import { setTimeout as delay } from 'node:timers/promises';
import { openai } from '@ai-sdk/openai';
import { tool } from 'ai';
import { z } from 'zod';
import { Absurd, AbsurdAgent } from '../src/index.ts';

const absurd = new Absurd({ db: process.env.ABSURD_DATABASE_URL ?? 'pglite:./.data/approval', queueName: 'approvals' });
const notes: string[] = [];

const analyst = new AbsurdAgent(
  {
    id: 'analyst',
    model: openai('gpt-5-mini'),
    instructions: 'Look up the revenue of the quarters named with getRevenue, then save a summary with recordNote.',
    approvalTimeout: 60 * 60,
    tools: {
      getRevenue: tool({
        inputSchema: z.object({ quarter: z.string() }),
        execute: async ({ quarter }) => ({ quarter, revenue: quarter === 'Q1' ? 1_200_000 : 1_450_000 }),
      }),
      recordNote: tool({
        description: 'Saves a note for the finance team. A person approves each note.',
        inputSchema: z.object({ text: z.string() }),
        needsApproval: true,
        execute: async ({ text }) => {
          notes.push(text);
          return { saved: true };
        },
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
const worker = await absurd.startWorker({ pollInterval: 0.1 });
const { taskID } = await absurd.spawn('analyse', { question: 'How did revenue change from Q1 to Q2? Save a note.' });

// Wait until the agent asks; a person would see this in a list of pending approvals.
let [pending] = await absurd.listPendingApprovals({ taskID });
while (!pending) {
  const state = (await absurd.fetchTaskResult(taskID))?.state;
  if (state === 'completed' || state === 'failed' || state === 'cancelled') throw new Error(`The task ended (${state}) without asking.`);
  await delay(100);
  [pending] = await absurd.listPendingApprovals({ taskID });
}
console.log(`waiting for approval: ${pending.toolName} ${JSON.stringify(pending.input)}`);
console.log(`the task is ${(await absurd.fetchTaskResult(taskID))?.state} meanwhile, and holds no worker`);

await absurd.approveToolCall({ taskID, toolCallId: pending.toolCallId, approved: true, reason: 'Numbers checked', input: pending.input });
const snapshot = await absurd.awaitTaskResult(taskID, { timeout: 120 });
console.log(snapshot);
console.log(`notes saved: ${notes.length}`);

await worker.close();
await absurd.close();
if (snapshot.state !== 'completed' || notes.length !== 1) process.exitCode = 1;
