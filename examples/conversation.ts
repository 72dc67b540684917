// A conversation carried across runs. Each user message is its own task; its params carry the conversation so
// far, and its result carries the messages the agent added (`responseMessages`), which the caller appends before
// the next turn. The third turn can compare Q1 and Q2 because the earlier tool results travel with the messages.
//
//   node examples/conversation.ts           (embedded database in ./.data, or ABSURD_DATABASE_URL)
import { openai } from '@ai-sdk/openai';
import { tool, type ModelMessage } from 'ai';
import { z } from 'zod';
import { Absurd, AbsurdAgent } from '../src/index.ts';

const absurd = new Absurd({ db: process.env.ABSURD_DATABASE_URL ?? 'pglite:./.data/conversation', queueName: 'chat' });

const analyst = new AbsurdAgent(
  {
    id: 'analyst',
    model: openai('gpt-5-mini'),
    instructions: 'You are a financial analyst. Look up revenue with getRevenue, note findings with recordNote, answer briefly.',
    tools: {
      getRevenue: tool({
        inputSchema: z.object({ quarter: z.string() }),
        execute: async ({ quarter }) => ({ quarter, revenue: quarter === 'Q1' ? 1_200_000 : 1_450_000 }),
      }),
      recordNote: tool({
        inputSchema: z.object({ text: z.string() }),
        execute: async () => ({ saved: true }),
      }),
    },
  },
  absurd,
);

interface TurnParams {
  messages: ModelMessage[];
}

interface TurnResult {
  text: string;
  responseMessages: ModelMessage[];
}

absurd.registerTask({ name: 'chat-turn' }, async (params: TurnParams): Promise<TurnResult> => {
  const result = await analyst.generate({ messages: params.messages });
  return { text: result.text, responseMessages: result.responseMessages };
});

await absurd.createQueue();
const worker = await absurd.startWorker();

let conversation: ModelMessage[] = [];
for (const userText of ['What was our revenue in Q1?', 'And in Q2?', 'Compare Q1 and Q2.']) {
  const messages: ModelMessage[] = [...conversation, { role: 'user', content: userText }];
  const { taskID } = await absurd.spawn('chat-turn', { messages } satisfies TurnParams);
  const snapshot = await absurd.awaitTaskResult(taskID, { timeout: 120 });
  if (snapshot.state !== 'completed') throw new Error(`Turn "${userText}" ended ${snapshot.state}`);
  const turn = snapshot.result as unknown as TurnResult;
  conversation = [...messages, ...turn.responseMessages];
  console.log(`user:      ${userText}\nassistant: ${turn.text}\n`);
}
console.log(`The conversation now holds ${conversation.length} messages.`);

await worker.close();
await absurd.close();
