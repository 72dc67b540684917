// Sub-agents across real worker processes killed with SIGKILL: a child killed mid-run, and the parent's
// worker killed right after it spawned a child. The next worker finishes the run with every child spawned
// once, every lookup done once, and no model request repeated.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { crashBackends, createSharedDatabase, type CrashBackend } from '../support/crash-databases.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import type { ScriptedReply } from '../support/openai-wire-format.ts';
import type { ModelConversation } from '../support/model-conversation.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { SubAgentWorkerOptions } from '../fixtures/sub-agent-worker.ts';

const topics = ['tides', 'winds', 'currents'];
const fixture = new URL('../fixtures/sub-agent-worker.ts', import.meta.url);

/** The lead asks for all topics at once, then reports; a researcher looks its topic up, then reports. */
function script(conversation: ModelConversation): ScriptedReply {
  if (conversation.toolNames.includes('research')) {
    if (conversation.toolResults.length === 0) return { toolCalls: topics.map((topic) => ({ toolName: 'research', input: { prompt: topic } })) };
    return { text: `report: ${conversation.toolResults.map((result) => JSON.stringify(result.output)).join(' | ')}` };
  }
  if (conversation.toolResults.length === 0) return { toolCalls: [{ toolName: 'lookup', input: { topic: conversation.userPrompt } }] };
  return { text: `finding on ${conversation.userPrompt}` };
}

const { backends, postgresSkipReason } = await crashBackends();
let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-sub-agents-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

for (const backend of ['pglite', 'postgres'] as CrashBackend[]) {
  const skip = backends.includes(backend) ? false : postgresSkipReason;
  describe(`sub-agents killed mid-run (${backend})`, { skip }, () => {
    for (const hang of [
      { at: 'lookup', topic: 'winds' },
      { at: 'checkpoint', stepName: ':child$' },
    ] as const) {
      test(`killed ${hang.at === 'lookup' ? 'inside a child' : 'right after the parent spawned a child'}: resumed with no repeat`, async () => {
        const shared = await createSharedDatabase(backend);
        const server: OpenAICompatibleServer = await startOpenAICompatibleServer({ script });
        const queue = uniqueQueueName('subagents');
        const effectsFile = join(scratch, `${queue}.jsonl`);
        await writeFile(effectsFile, '');
        try {
          const spawner = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: shared.url, queueName: queue });
          await spawner.createQueue();
          const { taskID } = await spawner.spawn('lead', { prompt: topics.join(', ') }, { queue });
          await spawner.close();
          const base: SubAgentWorkerOptions = { url: shared.url, queue, taskID, modelBaseURL: server.baseURL, effectsFile, claimTimeout: 2 };

          const first = startWorkerProcess(fixture, { options: { ...base, hang } });
          await first.waitForSignal('hanging', { timeoutMs: 90_000 });
          await first.kill();
          const second = startWorkerProcess(fixture, { options: base });
          const finished = await second.waitForSignal('task-finished', { timeoutMs: 120_000 });
          await second.exited;
          assert.equal(finished.state, 'completed', second.output());

          const reader = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: shared.url, queueName: queue });
          try {
            const result = await reader.fetchTaskResult(taskID);
            for (const topic of topics) assert.match(((result as { result?: { text?: string } } | null)?.result?.text ?? ''), new RegExp(`finding on ${topic}`));
            const { rows: children } = await reader.database.query(
              `select child_task_id from ai_sdk_absurd.task_children where parent_task_id = $1`,
              [taskID],
            );
            assert.equal(children.length, 3, 'one child per research call');
            const { rows: tasks } = await reader.database.query(`select task_name, state from absurd."t_${queue}" order by task_name`);
            assert.deepEqual(
              tasks.map((row: { task_name: string; state: string }) => `${row.task_name}:${row.state}`),
              ['lead:completed', 'sub-agent:researcher:completed', 'sub-agent:researcher:completed', 'sub-agent:researcher:completed'],
              'no child was spawned twice',
            );
          } finally {
            await reader.close();
          }
          const lookups = (await readFile(effectsFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line).topic as string);
          assert.deepEqual([...lookups].sort(), [...topics].sort(), 'each lookup ran exactly once');
          const repeated = server.repeatedRequests().map((request) => `${request.conversation.model}: ${request.conversation.userPrompt}`);
          assert.deepEqual(repeated, [], 'no model request was repeated');
        } finally {
          await server.close();
          await shared.remove();
        }
      });
    }
  });
}
