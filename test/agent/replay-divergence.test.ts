import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateText, tool } from 'ai';
import { z } from 'zod';
import {
  currentAttempt,
  failureOf,
  openAgentHarness,
  scriptedModel,
  turnIndex,
  type AgentHarness,
} from './agent-harness.ts';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import { durableTools } from '../../src/agent/durable-tool.ts';
import { recordedTaskFailure } from '../../src/client/current-task.ts';
import type { ReplayDivergencePolicy } from '../../src/agent/run-scope.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

/** A task whose prompt changes between its first and second attempt, as after a deploy. */
function changingPromptTask(taskName: string, policy: ReplayDivergencePolicy | undefined) {
  const model = scriptedModel((options) => ({ text: `answer ${turnIndex(options)} to ${JSON.stringify(options.prompt.at(-1))}` }));
  const agent = new AbsurdAgent({ id: 'drift', model, ...(policy ? { replayDivergence: policy } : {}) }, harness.absurd);
  harness.absurd.registerTask({ name: taskName }, async () => {
    const result = await agent.generate({ prompt: currentAttempt() === 1 ? 'prompt of release 1' : 'prompt of release 2' });
    if (currentAttempt() === 1) throw new Error('crash after the model call was checkpointed');
    return result.text;
  });
  return model;
}

async function capturingWarnings<T>(run: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  try {
    return { value: await run(), warnings };
  } finally {
    console.warn = original;
  }
}

test('a changed prompt fails the replay with ReplayDivergenceError naming the step (default policy)', async () => {
  const model = changingPromptTask('drift-error', undefined);
  const { snapshot } = await harness.run('drift-error', {}, { maxAttempts: 2 });
  assert.equal(snapshot.state, 'failed');
  const failure = failureOf(snapshot);
  assert.equal(failure.name, 'AiSdkAbsurdReplayDivergenceError');
  assert.match(failure.message, /checkpoint "drift:1\/model:1"/);
  assert.match(failure.message, /replayDivergence/);
  assert.equal(model.doGenerateCalls.length, 1, 'the model is not called again for the diverged step');
});

test("'warn' logs the divergence and uses the checkpoint", async () => {
  const model = changingPromptTask('drift-warn', 'warn');
  const { value, warnings } = await capturingWarnings(() => harness.run('drift-warn', {}, { maxAttempts: 2 }));
  assert.equal(value.snapshot.state, 'completed');
  assert.match(String((value.snapshot as { result: string }).result), /prompt of release 1/);
  assert.equal(model.doGenerateCalls.length, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /drift:1\/model:1/);
});

test("'ignore' uses the checkpoint silently", async () => {
  const model = changingPromptTask('drift-ignore', 'ignore');
  const { value, warnings } = await capturingWarnings(() => harness.run('drift-ignore', {}, { maxAttempts: 2 }));
  assert.equal(value.snapshot.state, 'completed');
  assert.match(String((value.snapshot as { result: string }).result), /prompt of release 1/);
  assert.equal(model.doGenerateCalls.length, 1);
  assert.deepEqual(warnings, []);
});

test('a replayed tool call with other input than recorded is a divergence', async () => {
  const effects: string[] = [];
  // A plain (non-durable) model answers differently on each attempt; the durable tool notices.
  const model = scriptedModel((options) =>
    turnIndex(options) === 0
      ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'charge', input: { cents: currentAttempt() === 1 ? 100 : 999 } }] }
      : { text: 'charged' },
  );
  const tools = durableTools(
    {
      charge: tool({
        inputSchema: z.object({ cents: z.number() }),
        execute: async ({ cents }) => {
          effects.push(String(cents));
          return 'ok';
        },
      }),
    },
    { name: 'billing' },
  );
  harness.absurd.registerTask({ name: 'charge' }, async () => {
    const result = await generateText({ model, tools, prompt: 'charge', maxRetries: 0 });
    // The AI SDK shows any error a tool throws to the model; the task still learns of the divergence.
    const failure = recordedTaskFailure(getCurrentTask()!);
    if (failure) throw failure.error;
    if (currentAttempt() === 1) throw new Error('crash after the tool ran');
    return result.text;
  });
  const { snapshot } = await harness.run('charge', {}, { maxAttempts: 2 });
  assert.equal(snapshot.state, 'failed');
  const failure = failureOf(snapshot);
  assert.equal(failure.name, 'AiSdkAbsurdReplayDivergenceError');
  assert.match(failure.message, /billing\/model:0\/tool:charge:call-1/);
  assert.match(failure.message, /other input/);
  assert.deepEqual(effects, ['100'], 'the tool did not run with the new input');
});

for (const [first, then] of [
  ['generate', 'stream'],
  ['stream', 'generate'],
] as const) {
  test(`${first}() becoming ${then}() between attempts names the kind of call that differs`, async () => {
    const taskName = `switch-${first}-to-${then}`;
    const model = scriptedModel(() => ({ text: 'same answer' }));
    const agent = new AbsurdAgent({ id: taskName, model, onError: () => {} }, harness.absurd);
    harness.absurd.registerTask({ name: taskName }, async () => {
      const method = currentAttempt() === 1 ? first : then;
      const text = method === 'generate' ? (await agent.generate({ prompt: 'hi' })).text : await (await agent.stream({ prompt: 'hi' })).text;
      if (currentAttempt() === 1) throw new Error('crash after the model call was checkpointed');
      return text;
    });
    const { snapshot } = await harness.run(taskName, {}, { maxAttempts: 2 });
    const failure = failureOf(snapshot);
    assert.equal(failure.name, 'AiSdkAbsurdReplayDivergenceError');
    assert.match(failure.message, new RegExp(`the recorded call was ${first}\\(\\), this call is ${then}\\(\\)`));
    // The request is the same: the message must not claim that its fingerprint differs.
    assert.match(failure.message, /the request itself is unchanged/);
    assert.doesNotMatch(failure.message, /differs from the call being made now/);
  });
}
