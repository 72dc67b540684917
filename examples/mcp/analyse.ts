// An agent whose tools come from an MCP server. `durableMCPClient` records the server's tool listing once per
// task and each tool call as a checkpoint; it connects only when a live call is needed, so a task that is fully
// replayed never starts the server at all.
//
//   node examples/mcp/analyse.ts            (embedded database in ./.data, or ABSURD_DATABASE_URL)
import { fileURLToPath } from 'node:url';
import { createMCPClient } from '@ai-sdk/mcp';
import { Experimental_StdioMCPTransport } from '@ai-sdk/mcp/mcp-stdio';
import { openai } from '@ai-sdk/openai';
import { Absurd, AbsurdAgent, durableMCPClient } from '../../src/index.ts';

const absurd = new Absurd({ db: process.env.ABSURD_DATABASE_URL ?? 'pglite:./.data/mcp', queueName: 'mcp' });

const revenueServer = fileURLToPath(new URL('./revenue-server.ts', import.meta.url));
const revenue = durableMCPClient({
  name: 'revenue',
  client: () =>
    createMCPClient({ transport: new Experimental_StdioMCPTransport({ command: process.execPath, args: [revenueServer] }) }),
});

absurd.registerTask({ name: 'analyse' }, async (params: { question: string }) => {
  const tools = await revenue.tools();
  const analyst = new AbsurdAgent(
    { model: openai('gpt-5-mini'), tools, instructions: await revenue.instructions() },
    absurd,
    { name: 'analyst' },
  );
  const result = await analyst.generate({ prompt: params.question });
  return { report: result.text, toolCalls: result.steps.flatMap((step) => step.toolCalls.map((call) => call.toolName)) };
});

await absurd.createQueue();
const worker = await absurd.startWorker();
const { taskID } = await absurd.spawn('analyse', { question: 'How did revenue change from Q1 to Q2? Save a note.' });
const snapshot = await absurd.awaitTaskResult(taskID, { timeout: 120 });
console.log(snapshot);

await worker.close();
await revenue.close();
await absurd.close();
if (snapshot.state !== 'completed') process.exitCode = 1;
