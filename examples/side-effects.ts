// A tool with a side effect, made safe to repeat. The `sendEmail` tool writes to an outbox table whose key is the
// task id plus the tool call id. The first worker process dies (SIGKILL) right after the email is written but
// before the tool returns, so no checkpoint records it; the second worker runs the tool again, as it must, and the
// key turns the repeat into a no-op. One email, although the tool ran twice.
//
//   node examples/side-effects.ts           (embedded database in ./.data, or ABSURD_DATABASE_URL)
import { spawn } from 'node:child_process';
import { openai } from '@ai-sdk/openai';
import { tool } from 'ai';
import { z } from 'zod';
import { Absurd, AbsurdAgent, getCurrentTask } from '../src/index.ts';

const databaseUrl = process.env.ABSURD_DATABASE_URL ?? 'pglite:./.data/side-effects';

const absurd = new Absurd({ db: databaseUrl, queueName: 'mail' });

const assistant = new AbsurdAgent(
  {
    id: 'mailer',
    model: openai('gpt-5-mini'),
    instructions: 'Look up the revenue of the quarters named with getRevenue, then email a summary with sendEmail.',
    tools: {
      getRevenue: tool({
        inputSchema: z.object({ quarter: z.string() }),
        execute: async ({ quarter }) => ({ quarter, revenue: quarter === 'Q1' ? 1_200_000 : 1_450_000 }),
      }),
      sendEmail: tool({
        description: 'Emails a note to the finance team.',
        inputSchema: z.object({ text: z.string() }),
        execute: async ({ text }, { toolCallId }) => {
          const task = getCurrentTask()!;
          const { rows } = await absurd.database.query<{ inserted: boolean }>(
            `insert into mail_outbox (idempotency_key, body) values ($1, $2)
             on conflict (idempotency_key) do nothing returning true as inserted`,
            [`${task.taskID}:${toolCallId}`, text],
          );
          console.log(`  [worker ${process.pid}] sendEmail ran on attempt ${task.attempt}: ${rows.length > 0 ? 'email queued' : 'already queued, nothing sent'}`);
          // Simulates a crash after the effect and before the tool returns, on the first attempt only.
          if (task.attempt === 1) process.kill(process.pid, 'SIGKILL');
          return { queued: true };
        },
      }),
    },
  },
  absurd,
);

absurd.registerTask({ name: 'mail-summary' }, async (params: { question: string }) => {
  const result = await assistant.generate({ prompt: params.question });
  return { text: result.text };
});

if (process.argv[2] === 'worker') {
  // A worker process: run until the task ends (or until the tool above kills this process).
  const taskID = process.argv[3]!;
  const worker = await absurd.startWorker({ claimTimeout: 2, pollInterval: 0.1 });
  await absurd.awaitTaskResult(taskID, { timeout: 120 });
  await worker.close();
  await absurd.close();
} else {
  await absurd.createQueue();
  await absurd.database.query(
    'create table if not exists mail_outbox (idempotency_key text primary key, body text not null)',
  );
  const { taskID } = await absurd.spawn('mail-summary', { question: 'Email me the revenue for Q1 and Q2.' });
  // An embedded database allows one process at a time: let go of it while the workers run.
  await absurd.close();

  for (const label of ['first', 'second']) {
    const exit = await runWorkerProcess(taskID);
    console.log(`${label} worker process ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`}`);
  }

  const reader = new Absurd({ db: databaseUrl, queueName: 'mail' });
  const snapshot = await reader.fetchTaskResult(taskID);
  const { rows } = await reader.database.query<{ count: number }>(
    'select count(*)::int as count from mail_outbox where idempotency_key like $1',
    [`${taskID}:%`],
  );
  console.log(`task ${snapshot?.state}; emails in the outbox: ${rows[0]?.count}`);
  await reader.close();
  if (snapshot?.state !== 'completed' || rows[0]?.count !== 1) process.exitCode = 1;
}

function runWorkerProcess(taskID: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [process.argv[1]!, 'worker', taskID], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
