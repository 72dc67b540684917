// No lease-renewal timer outlives the handler execution that started it. A streaming task whose handler
// fails while its model stream is still in flight leaves the stream unfinished, and so its call "in
// flight"; the execution's end must still stop the renewal. Otherwise the timer keeps extending the
// lease of a run whose failure could not be recorded (a database blip at that moment), so the run
// stays `running` forever instead of being retried once its lease runs out, and every late renewal
// re-arms absurd-sdk's lease timers, which keeps a drained `workBatch` process alive.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { MockLanguageModelV4 } from 'ai/test';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import type { Database } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { currentAttempt, interceptQueries, mockUsage, silentLog } from './agent-harness.ts';

const claimTimeout = 1;
const heartbeatIntervalMs = (claimTimeout * 1000) / 2;

/** Counts lease renewals per run and can make the next `fail_run` fail, as a database restart would. */
class LeaseProbe {
  readonly extensions: Array<{ runID: string; at: number }> = [];
  failNextFailRun = false;

  wrap(database: Database): Database {
    return interceptQueries(database, async (text, params) => {
      if (text.includes('absurd.extend_claim(')) this.extensions.push({ runID: String(params?.[1]), at: performance.now() });
      if (text.includes('absurd.fail_run(') && this.failNextFailRun) {
        this.failNextFailRun = false;
        throw new Error('terminating connection due to administrator command');
      }
      return database.query(text, params);
    });
  }

  extensionsOf(runID: string, since: number): number {
    return this.extensions.filter((extension) => extension.runID === runID && extension.at >= since).length;
  }
}

let database: TestDatabase;
let opened: Database;
const clients: Absurd[] = [];
before(async () => {
  database = await createTestDatabase();
  opened = openDatabase(database.db).database;
});
after(async () => {
  for (const client of clients) await client.close();
  await opened.close();
  await database.close();
});

/** A client on a queue of its own, so that what one test leaves behind is never claimed by another. */
async function openClient(probe: LeaseProbe): Promise<Absurd> {
  const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: probe.wrap(opened), queueName: uniqueQueueName('lease'), log: silentLog });
  clients.push(absurd);
  await absurd.createQueue();
  return absurd;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * On the first attempt the model streams three words and then stalls (until the call is aborted, or
 * a bound), so the stream is still in flight when the handler gives up; later attempts stream in full.
 */
function stallingModel() {
  return new MockLanguageModelV4({
    doStream: async ({ abortSignal }) => {
      const stalls = currentAttempt() === 1;
      let sent = 0;
      const words = ['one ', 'two ', 'three '];
      return {
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          async pull(controller) {
            if (sent === 0) controller.enqueue({ type: 'stream-start', warnings: [] });
            if (sent === 0) controller.enqueue({ type: 'text-start', id: 't' });
            if (sent < words.length) {
              controller.enqueue({ type: 'text-delta', id: 't', delta: words[sent++]! });
              return;
            }
            if (stalls) {
              await new Promise<void>((resolve) => {
                const bound = setTimeout(resolve, 4_000);
                abortSignal?.addEventListener('abort', () => (clearTimeout(bound), resolve()), { once: true });
              });
              controller.error(new Error('the stalled stream gave up'));
              return;
            }
            controller.enqueue({ type: 'text-end', id: 't' });
            controller.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage: mockUsage });
            controller.close();
          },
        }),
      };
    },
  });
}

/**
 * Spawns, on a queue of its own, a streaming agent task whose handler reads two chunks and then fails
 * on its first attempt; `ended` tells which run's execution ended when.
 */
async function spawnFailingStreamTask(taskName: string) {
  const probe = new LeaseProbe();
  const absurd = await openClient(probe);
  const ended: Array<{ runID: string; at: number }> = [];
  const agent = new AbsurdAgent({ id: taskName, model: stallingModel(), onError: () => {} }, absurd);
  absurd.registerTask({ name: taskName }, async (_params, ctx) => {
    const result = await agent.stream({ prompt: 'talk' });
    if (currentAttempt() > 1) return await result.text;
    let read = 0;
    for await (const _chunk of result.textStream) if (++read === 2) break;
    // Past at least one renewal, so that the renewal timer is running when the handler fails.
    await sleep(heartbeatIntervalMs * 1.5);
    ended.push({ runID: (ctx as unknown as { task: { run_id: string } }).task.run_id, at: performance.now() });
    throw new Error('the handler failed mid-stream');
  });
  const { taskID } = await absurd.spawn(taskName, {});
  return { probe, absurd, ended, taskID };
}

async function runOf(absurd: Absurd, runID: string): Promise<{ state: string; claimExpiresAt: string | null }> {
  const { rows } = await database.query(
    `select state, claim_expires_at::text as claim_expires_at from absurd.r_${absurd.queue} where run_id = $1`,
    [runID],
  );
  return { state: rows[0].state, claimExpiresAt: rows[0].claim_expires_at };
}

test('a handler that fails mid-stream stops renewing the lease: the run fails and is retried', async () => {
  const { probe, absurd, ended, taskID } = await spawnFailingStreamTask('fails-mid-stream');
  await absurd.workBatch('lease-test', claimTimeout, 1);
  assert.equal(ended.length, 1);
  const [{ runID, at }] = ended as [{ runID: string; at: number }];
  assert.ok(probe.extensionsOf(runID, 0) > 0, 'the lease was renewed while the stream was in flight');
  assert.equal((await runOf(absurd, runID)).state, 'failed');
  await sleep(heartbeatIntervalMs * 4);
  assert.equal(probe.extensionsOf(runID, at), 0, 'no renewal after the execution ended');
  await absurd.workBatch('lease-test', claimTimeout, 1);
  assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: 'one two three ' });
});

test('when the failure cannot be recorded (a database blip), the lease stops moving and the run is retried once it expires', async () => {
  const { probe, absurd, ended, taskID } = await spawnFailingStreamTask('fails-in-blip');
  probe.failNextFailRun = true;
  await assert.rejects(absurd.workBatch('lease-test', claimTimeout, 1), /administrator command/);
  const [{ runID, at }] = ended as [{ runID: string; at: number }];
  const left = await runOf(absurd, runID);
  assert.equal(left.state, 'running', 'the failure was not recorded');
  // Over several renewal intervals the lease of the abandoned run must not move.
  await sleep(heartbeatIntervalMs * 4);
  assert.equal(probe.extensionsOf(runID, at), 0, 'no renewal after the execution ended');
  assert.deepEqual(await runOf(absurd, runID), left, 'claim_expires_at stopped moving');
  // The lease has run out: the next claim retries the task, which completes.
  for (let polls = 0; polls < 5 && (await absurd.fetchTaskResult(taskID))?.state !== 'completed'; polls++) {
    await absurd.workBatch('lease-test', claimTimeout, 1);
  }
  assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: 'one two three ' });
  assert.notEqual((await runOf(absurd, runID)).state, 'running');
});
