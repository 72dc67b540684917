// A budget across a real crash: a worker process spends part of a token budget and is killed with
// SIGKILL; a fresh process resumes the run, replays what was recorded, and stops before the first model
// call after the total of both attempts reached the budget (not after the second attempt's own spend).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { crashBackends, createSharedDatabase, type CrashBackend } from '../support/crash-databases.ts';
import { startOpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { BudgetWorkerOptions } from './budget-worker.ts';

const budgetWorker = new URL('./budget-worker.ts', import.meta.url);
const { backends, postgresSkipReason } = await crashBackends();
const budgetTokens = 1_500;

for (const backend of ['pglite', 'postgres'] as CrashBackend[]) {
  describe(`a budget across a SIGKILL on ${backend}`, { skip: !backends.includes(backend) && postgresSkipReason }, () => {
    test('the resumed run continues from what the killed attempt spent', async () => {
      const database = await createSharedDatabase(backend);
      const server = await startOpenAICompatibleServer({
        script: (conversation) => ({ toolCalls: [{ toolName: 'work', input: { n: conversation.toolResults.length } }] }),
      });
      const queue = uniqueQueueName('budget');
      try {
        const taskID = await withClient(database.url, queue, async (absurd) => {
          await absurd.createQueue();
          return (await absurd.spawn('spend', {}, { queue, maxAttempts: 3 })).taskID;
        });
        const workerOptions: BudgetWorkerOptions = { url: database.url, queue, taskID, modelBaseURL: server.baseURL, tokens: budgetTokens, claimTimeout: 2 };

        const first = startWorkerProcess(budgetWorker, { options: { ...workerOptions, holdAtWork: 2 } });
        await first.waitForSignal('worked', { where: (signal) => signal.n === 2, timeoutMs: 60_000 });
        await first.kill();
        const spentBeforeCrash = await withClient(database.url, queue, async (absurd) => (await absurd.usage({ taskID })).totals);
        assert.equal(spentBeforeCrash.modelCalls, 3, 'three model calls were written before the kill');
        assert.ok(spentBeforeCrash.totalTokens < budgetTokens, `the killed attempt spent ${spentBeforeCrash.totalTokens} tokens, under the budget`);

        const second = startWorkerProcess(budgetWorker, { options: workerOptions });
        const finished = await second.waitForSignal('task-finished', { timeoutMs: 120_000 });
        assert.equal(finished.state, 'failed', second.output());
        await second.exited;

        await withClient(database.url, queue, async (absurd) => {
          const snapshot = await absurd.fetchTaskResult(taskID);
          const failure = snapshot?.state === 'failed' ? (snapshot.failure as { name: string; message: string }) : undefined;
          assert.equal(failure?.name, 'AiSdkAbsurdBudgetExceededError', JSON.stringify(snapshot));
          const { rows } = await absurd.database.query<{ tokens: number; attempt: number }>(
            `select (input_tokens + output_tokens)::int as tokens, written_by_attempt as attempt from ai_sdk_absurd.model_calls
             where task_id = $1 order by checkpoint_name collate "C"`,
            [taskID],
          );
          const calls = rows.sort((a, b) => a.attempt - b.attempt);
          const total = calls.reduce((sum, call) => sum + call.tokens, 0);
          assert.ok(calls.some((call) => call.attempt === 1) && calls.some((call) => call.attempt === 2), 'both attempts paid for calls');
          assert.ok(total >= budgetTokens, `spent ${total}, at least the budget`);
          assert.ok(total - calls.at(-1)!.tokens < budgetTokens, 'the last call was made while the total was under the budget');
          assert.match(failure!.message, new RegExp(`has spent ${total} tokens in ${calls.length} model calls`));
          // Every model call was paid once: the killed attempt's calls were replayed, not asked again.
          assert.deepEqual(server.repeatedRequests(), []);
          assert.equal(server.completedRequests().length, calls.length);
          assert.equal((await absurd.usage({ taskID })).totals.modelCalls, calls.length);
        });
      } finally {
        await server.close();
        await database.remove();
      }
    });
  });
}

async function withClient<T>(url: string, queue: string, use: (absurd: Absurd) => Promise<T>): Promise<T> {
  const absurd = new Absurd({ db: url, queueName: queue });
  try {
    return await use(absurd);
  } finally {
    await absurd.close();
  }
}
