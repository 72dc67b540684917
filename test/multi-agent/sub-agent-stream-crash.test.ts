// Sub-agent streams forwarded into the parent's durable stream across real worker processes killed with
// SIGKILL: inside a child mid-run (after its first streamed step was forwarded), right after the parent
// spawned a child, and right after the parent, woken by a finished child, recorded that child's result. A
// reader of the parent's stream afterwards finds every child's chunks exactly once. And a cancel of the
// parent from another process reaches the child that was mid-run.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { discardSupersededChunks } from '../../src/streams/superseded-marker.ts';
import { crashBackends, createSharedDatabase, type CrashBackend, type SharedDatabase } from '../support/crash-databases.ts';
import type { ModelConversation } from '../support/model-conversation.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import type { ScriptedReply } from '../support/openai-wire-format.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { assertForwardedOnce, collectChunks, subAgentParts } from './forwarded-parts.ts';
import type { LongRunWorkerOptions } from './fixtures/long-run-worker.ts';

const topics = ['tides', 'winds', 'currents'];
const fixture = new URL('./fixtures/long-run-worker.ts', import.meta.url);
const cli = fileURLToPath(new URL('../../bin/ai-sdk-absurd.js', import.meta.url));

/** The lead asks for all topics at once, then reports; a researcher looks its topic up, then reports. */
function script(conversation: ModelConversation): ScriptedReply {
  if (conversation.toolNames.includes('research')) {
    if (conversation.toolResults.length === 0) return { toolCalls: topics.map((topic) => ({ toolName: 'research', input: { prompt: topic } })) };
    return { text: `report: ${conversation.toolResults.map((result) => result.output).join(' | ')}` };
  }
  if (conversation.toolResults.length === 0) return { toolCalls: [{ toolName: 'lookup', input: { topic: conversation.userPrompt } }] };
  return { text: `finding on ${conversation.userPrompt}: it moves with the moon` };
}

const { backends, postgresSkipReason } = await crashBackends();
let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-sub-agent-streams-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface LeadRun {
  readonly shared: SharedDatabase;
  readonly server: OpenAICompatibleServer;
  readonly queue: string;
  readonly taskID: string;
  readonly effectsFile: string;
  /** Starts a worker process of this run (killed at the end if still running). */
  worker(extra?: Partial<LongRunWorkerOptions>): WorkerProcess;
}

/** A fresh database and model server with the lead task spawned; removed once `body` has run. */
async function withLeadRun(backend: CrashBackend, body: (run: LeadRun) => Promise<void>): Promise<void> {
  const shared = await createSharedDatabase(backend);
  const server = await startOpenAICompatibleServer({ script });
  const queue = uniqueQueueName('leadrun');
  const effectsFile = join(scratch, `${queue}.jsonl`);
  await writeFile(effectsFile, '');
  const workers: WorkerProcess[] = [];
  try {
    // This process lets go of the database before any worker opens it (a PGlite directory has one owner).
    const spawner = new Absurd({ db: shared.url, queueName: queue });
    await spawner.createQueue();
    const { taskID } = await spawner.spawn('lead', { prompt: topics.join(', ') }, { queue, retryStrategy: { kind: 'none' } });
    await spawner.close();
    const base: LongRunWorkerOptions = { scenario: 'forward', url: shared.url, queue, taskID, modelBaseURL: server.baseURL, effectsFile, claimTimeout: 2 };
    const worker = (extra: Partial<LongRunWorkerOptions> = {}) => {
      const started = startWorkerProcess(fixture, { options: { ...base, ...extra } });
      workers.push(started);
      return started;
    };
    await body({ shared, server, queue, taskID, effectsFile, worker });
  } finally {
    await Promise.all(workers.map((started) => started.kill()));
    await server.close();
    await shared.remove();
  }
}

for (const backend of ['pglite', 'postgres'] as CrashBackend[]) {
  const skip = backends.includes(backend) ? false : postgresSkipReason;
  describe(`sub-agents with forwarded streams across killed workers, and a cancel (${backend})`, { skip }, () => {
    for (const hang of [
      { at: 'lookup', topic: 'winds' },
      { at: 'checkpoint', stepName: ':child$' },
      // The parent woke for a finished child, forwarded the rest of its stream and recorded its result. (No ':'
      // after the tool call id: `[^/]+$` also matched the `...:child` checkpoint, the kill point of the case above.)
      { at: 'checkpoint', stepName: '/tool:research:[^/:]+$' },
    ] as const) {
      const where =
        hang.at === 'lookup' ? 'inside a child' : hang.stepName === ':child$' ? 'right after the parent spawned a child' : "right after the parent recorded a child's result";
      test(`killed ${where}: each child's chunks reach the parent's stream once`, () =>
        withLeadRun(backend, async ({ shared, server, queue, taskID, effectsFile, worker }) => {
          const first = worker({ hang });
          const hanging = await first.waitForSignal('hanging', { timeoutMs: 90_000 });
          // Inside the child, the first worker had already forwarded part of its stream: the resumed run must not repeat it.
          if (hang.at === 'lookup') assert.ok(Number(hanging.forwardedParts) >= 1, JSON.stringify(hanging));
          await first.kill();
          // On Postgres a reader follows the parent's stream live while the run resumes (PGlite: one process at a time).
          const liveReader = backend === 'postgres' ? new Absurd({ db: shared.url, queueName: queue }) : undefined;
          const live = liveReader ? collectChunks(liveReader.readStream(taskID)) : undefined;
          const second = worker();
          const finished = await second.waitForSignal('task-finished', { timeoutMs: 120_000 });
          await second.exited;
          assert.equal(finished.state, 'completed', second.output());

          const reader = new Absurd({ db: shared.url, queueName: queue });
          try {
            const parentChunks = await collectChunks(reader.readStream(taskID));
            if (live) {
              // The same message, each chunk once (chunks superseded while it read are voided by their marker alike).
              assert.deepEqual(discardSupersededChunks(await live), discardSupersededChunks(parentChunks), 'the live reader saw the same chunks');
              await liveReader!.close();
            }
            const { rows: children } = await reader.database.query<{ task_id: string }>(
              `select child_task_id::text as task_id from ai_sdk_absurd.task_children where parent_task_id = $1`,
              [taskID],
            );
            assert.equal(children.length, 3);
            for (const child of children) {
              const childChunks = await collectChunks(reader.readStream(child.task_id));
              assert.ok(childChunks.some((chunk) => chunk.type === 'tool-input-available'), 'the child streamed its lookup');
              const parts = subAgentParts(parentChunks, child.task_id);
              assertForwardedOnce(parts, childChunks, 'completed');
              const result = (await reader.fetchTaskResult(child.task_id)) as { result?: { text?: string } } | null;
              assert.equal(parts.at(-1)?.data.text, result?.result?.text);
            }
          } finally {
            await reader.close();
          }
          const lookups = (await readFile(effectsFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line).topic as string);
          assert.deepEqual([...lookups].sort(), [...topics].sort(), 'each lookup ran exactly once');
          assert.deepEqual(server.repeatedRequests().map((request) => request.index), [], 'no model request was repeated');
        }));
    }

    test('ai-sdk-absurd cancel of the parent, in its own process, cancels the child that was mid-run and those not run yet', () =>
      withLeadRun(backend, async ({ shared, queue, taskID, effectsFile, worker }) => {
        const first = worker({ hang: { at: 'lookup', topic: 'winds' } });
        await first.waitForSignal('hanging', { timeoutMs: 90_000 });
        // Postgres: cancelled while the child runs. PGlite has one process at a time: the worker goes first.
        if (backend === 'pglite') await first.kill();
        const cancelled = spawnSync(process.execPath, [cli, 'cancel', taskID, '--db', shared.url], { encoding: 'utf8', timeout: 60_000 });
        assert.equal(cancelled.status, 0, cancelled.stderr);
        await first.kill();
        // A new worker finds nothing of the run left to do.
        const after = worker({ lingerMs: 2000 });
        assert.equal((await after.waitForSignal('task-finished')).state, 'cancelled');
        assert.equal((await after.exited).code, 0, after.output());

        const reader = new Absurd({ db: shared.url, queueName: queue });
        try {
          assert.equal((await reader.fetchTaskResult(taskID))?.state, 'cancelled');
          const { rows } = await reader.database.query<{ prompt: string; state: string }>(
            `select t.params->>'prompt' as prompt, t.state from ai_sdk_absurd.task_children l
             join absurd."t_${queue}" t on t.task_id = l.child_task_id where l.parent_task_id = $1 order by 1`,
            [taskID],
          );
          const states = Object.fromEntries(rows.map((row) => [row.prompt, row.state]));
          assert.equal(rows.length, 3);
          assert.equal(states.winds, 'cancelled', 'the child killed mid-run');
          for (const topic of topics) assert.ok(['completed', 'cancelled'].includes(states[topic]!), JSON.stringify(states));
        } finally {
          await reader.close();
        }
        const lookups = (await readFile(effectsFile, 'utf8')).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line).topic as string);
        assert.ok(!lookups.includes('winds'), 'the cancelled child never did its lookup, not even in the new worker');
      }));
  });
}
