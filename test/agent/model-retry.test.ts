import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { APICallError, generateText } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import {
  currentAttempt,
  generateResult,
  openAgentHarness,
  streamOf,
  streamParts,
  turnIndex,
  type AgentHarness,
  type ScriptedTurn,
  failureOf,
} from './agent-harness.ts';
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { describeCheckpoint } from '../../src/agent/checkpoint-format.ts';
import { durableModel } from '../../src/agent/durable-model.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

const rateLimited = () =>
  new APICallError({
    message: 'Rate limit reached',
    url: 'https://api.example.com/v1/chat/completions',
    requestBodyValues: {},
    statusCode: 429,
    responseHeaders: { 'retry-after-ms': '1' },
    isRetryable: true,
  });

const badRequest = () =>
  new APICallError({ message: 'Bad request', url: 'https://api.example.com', requestBodyValues: {}, statusCode: 400, isRetryable: false });

/** Two model turns; the first provider call of each turn fails `failures` times first. */
function flakyModel(failures: number, makeError: () => Error) {
  const attemptsByTurn = new Map<number, number>();
  const calls: Array<{ turn: number; attempt: number }> = [];
  const turn = (options: LanguageModelV4CallOptions): ScriptedTurn => {
    const index = turnIndex(options);
    calls.push({ turn: index, attempt: currentAttempt() });
    const seen = (attemptsByTurn.get(index) ?? 0) + 1;
    attemptsByTurn.set(index, seen);
    if (seen <= failures) throw makeError();
    return index === 0 ? { text: 'thinking ', toolCalls: [] } : { text: 'done' };
  };
  const model = new MockLanguageModelV4({
    doGenerate: async (options) => generateResult(turn(options)),
    doStream: async (options) => ({ stream: streamOf(streamParts(turn(options))) }),
  });
  return { model, calls };
}

for (const mode of ['generate', 'stream'] as const) {
  test(`${mode}: a retryable 429 is retried inside the step and does not shift checkpoints`, async () => {
    const { model, calls } = flakyModel(1, rateLimited);
    const agent = new AbsurdAgent({ id: `retry-${mode}`, model }, harness.absurd);
    harness.absurd.registerTask({ name: `retry-${mode}` }, async () => {
      const first = mode === 'generate' ? (await agent.generate({ prompt: 'a' })).text : await (await agent.stream({ prompt: 'a' })).text;
      const second = mode === 'generate' ? (await agent.generate({ prompt: 'b' })).text : await (await agent.stream({ prompt: 'b' })).text;
      if (currentAttempt() === 1) throw new Error('crash after both runs');
      return [first, second];
    });
    const { taskID, snapshot } = await harness.run(`retry-${mode}`, {});
    assert.deepEqual(snapshot, { state: 'completed', result: ['thinking ', 'thinking '] });
    // Attempt 1: a failed and a successful provider call for the first run, one call for the second run.
    assert.deepEqual(calls, [
      { turn: 0, attempt: 1 },
      { turn: 0, attempt: 1 },
      { turn: 0, attempt: 1 },
    ]);
    const timeline = (await harness.checkpoints(taskID)).map(({ name, state }) => describeCheckpoint(name, state));
    assert.deepEqual(
      timeline.map((entry) => [entry.name, entry.type === 'model-call' ? entry.attempts : null]),
      [
        [`retry-${mode}:1/model:1`, 2],
        [`retry-${mode}:2/model:1`, 1],
      ],
    );
  });
}

test('a non-retryable error is not retried: it fails the task at once, without a checkpoint', async () => {
  const { model, calls } = flakyModel(1, badRequest);
  const agent = new AbsurdAgent({ id: 'fatal', model }, harness.absurd);
  harness.absurd.registerTask({ name: 'fatal' }, async () => (await agent.generate({ prompt: 'a' })).text);
  const { taskID, snapshot } = await harness.run('fatal', {}, { maxAttempts: 5 });
  assert.equal(snapshot.state, 'failed');
  assert.equal(failureOf(snapshot).name, 'AI_APICallError');
  assert.deepEqual(calls, [{ turn: 0, attempt: 1 }], 'neither the step nor the task tried again');
  assert.deepEqual(await harness.checkpoints(taskID), []);
});

test('maxRetries from the agent settings bounds the retries inside the step', async () => {
  const { model, calls } = flakyModel(2, rateLimited);
  const agent = new AbsurdAgent({ id: 'bounded', model, maxRetries: 1 }, harness.absurd);
  harness.absurd.registerTask({ name: 'bounded' }, async () => (await agent.generate({ prompt: 'a' })).text);
  const { snapshot } = await harness.run('bounded', {}, { maxAttempts: 1 });
  assert.equal(snapshot.state, 'failed');
  assert.match(failureOf(snapshot).message, /Failed after 2 attempts/);
  assert.equal(calls.length, 2);
});

test('a standalone durable model keeps its checkpoint slot when the SDK retries around it', async () => {
  const { model, calls } = flakyModel(1, rateLimited);
  // No retries inside the step: the 429 reaches generateText, whose own retry calls the model again.
  const writer = durableModel(model, { name: 'writer', maxRetries: 0 });
  harness.absurd.registerTask({ name: 'sdk-retry' }, async () => {
    const result = await generateText({ model: writer, prompt: 'a' });
    if (currentAttempt() === 1) throw new Error('crash after the call');
    return result.text;
  });
  const { taskID, snapshot } = await harness.run('sdk-retry', {});
  assert.deepEqual(snapshot, { state: 'completed', result: 'thinking ' });
  assert.equal(calls.length, 2, 'no call on the second attempt');
  assert.deepEqual((await harness.checkpoints(taskID)).map((checkpoint) => checkpoint.name), ['writer/model:1']);
});
