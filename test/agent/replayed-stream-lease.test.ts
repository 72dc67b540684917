// A replayed model stream is consumed at the consumer's pace, like a live one: while its recorded parts
// are being read, the lease is renewed, so a slow consumer (a slow client of a resumed chat) keeps the
// task. Without renewal a replay writes no checkpoint, and a 2 s lease runs out long before 120 chunks
// read at 40 ms each are through. (An AbsurdAgent that publishes its stream to the task's durable
// stream reads the run's stream at the publisher's pace instead; that path is not covered here.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isStepCount, streamText } from 'ai';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { durableModel } from '../../src/agent/durable-model.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import { currentAttempt, openAgentHarness, scriptedModel, type AgentHarness } from './agent-harness.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

const claimTimeout = 2;
const chunks = 120;
const answer = Array.from({ length: chunks }, (_, index) => `w${index} `).join('');

/** Whether the database still gives the current run its lease (its claim has not run out). */
async function leaseHeld(): Promise<boolean> {
  const task = getCurrentTask()!;
  const { rows } = await harness.database.query(
    `select claim_expires_at > now() as held from absurd.r_${harness.absurd.queue} where run_id = $1`,
    [task.runID],
  );
  return rows[0]?.held === true;
}

async function readSlowly(textStream: AsyncIterable<string>): Promise<number> {
  let read = 0;
  for await (const _chunk of textStream) {
    read++;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return read;
}

for (const api of ['AbsurdAgent.stream', 'AbsurdAgent.stream (published)', 'streamText'] as const) {
  test(`${api}: a slow consumer of a replayed stream keeps the lease`, async () => {
    const taskName = `slow-replay-${api.replace(/[^a-z]+/gi, '-')}`;
    const model = scriptedModel(() => ({ text: answer }));
    // Published, the durable stream reads the run at its own pace while the caller's stream still holds the lease.
    const agent = new AbsurdAgent({ id: taskName, model, durableStream: api.endsWith('(published)') }, harness.absurd);
    const stream = () =>
      api.startsWith('AbsurdAgent.stream')
        ? agent.stream({ prompt: 'talk' })
        : streamText({ model: durableModel(model, { name: taskName }), prompt: 'talk', maxRetries: 0, stopWhen: isStepCount(2) });
    const replays: Array<{ read: number; held: boolean; heartbeats: number }> = [];
    harness.absurd.registerTask({ name: taskName }, async () => {
      const result = await stream();
      if (currentAttempt() === 1) {
        await result.text;
        throw new Error('crash after the live stream was checkpointed');
      }
      const heartbeatsBefore = harness.crash.calls.filter((name) => name === 'extend_claim').length;
      const read = await readSlowly(result.textStream);
      const heartbeats = harness.crash.calls.filter((name) => name === 'extend_claim').length - heartbeatsBefore;
      replays.push({ read, held: await leaseHeld(), heartbeats });
      return read;
    });
    const { snapshot } = await harness.run(taskName, {}, { claimTimeout });
    assert.deepEqual(snapshot, { state: 'completed', result: chunks });
    assert.equal(model.doStreamCalls.length, 1, 'the second attempt replayed the stream');
    assert.equal(replays.length, 1);
    assert.equal(replays[0]!.read, chunks);
    assert.ok(replays[0]!.heartbeats > 0, 'the lease was renewed while the replayed parts were read');
    assert.equal(replays[0]!.held, true, 'the run still held its lease after the slow read');
  });
}
