import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAgentUIStream, generateText, tool, type UIMessageChunk } from 'ai';
import { z } from 'zod';
import {
  currentAttempt,
  failureOf,
  openAgentHarness,
  scriptedModel,
  toolOutputsInPrompt,
  turnIndex,
  type AgentHarness,
  type TurnScript,
} from './agent-harness.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { NotInTaskError } from '../../src/errors/not-in-task-error.ts';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { describeCheckpoint } from '../../src/agent/checkpoint-format.ts';
import { durableModel } from '../../src/agent/durable-model.ts';
import { durableTools } from '../../src/agent/durable-tool.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

/** One tool call (`echo` with the prompt's text), then text that repeats what the tool said. */
const echoOnce: TurnScript = (options) => {
  if (turnIndex(options) === 0) {
    const prompt = options.prompt.findLast((message) => message.role === 'user');
    const text = prompt?.content.map((part) => (part.type === 'text' ? part.text : '')).join('') ?? '';
    return { toolCalls: [{ toolCallId: 'call-1', toolName: 'echo', input: { text } }] };
  }
  return { text: `echoed ${toolOutputsInPrompt(options).join(',')}` };
};

function echoTools(calls: string[]) {
  return {
    echo: tool({
      inputSchema: z.object({ text: z.string() }),
      execute: async ({ text }) => {
        calls.push(text);
        return text.toUpperCase();
      },
    }),
  };
}

describe('construction', () => {
  test('an agent without a name or id cannot be built, and the error says how to fix it', () => {
    assert.throws(
      () => new AbsurdAgent({ model: scriptedModel(echoOnce) }, harness.absurd),
      (error: unknown) => error instanceof ConfigurationError && /name: "analyst"/.test(error.message) && /id/.test(error.message),
    );
  });

  test('the name option wins over the id, and names cannot contain "/" or "#"', () => {
    const agent = new AbsurdAgent({ id: 'chat-widget', model: scriptedModel(echoOnce) }, harness.absurd, { name: 'support' });
    assert.equal(agent.name, 'support');
    assert.equal(agent.id, 'chat-widget');
    assert.equal(agent.version, 'agent-v1');
    assert.throws(() => new AbsurdAgent({ id: 'a/b', model: scriptedModel(echoOnce) }, harness.absurd), ConfigurationError);
  });

  test('the Absurd client is required as second argument', () => {
    assert.throws(() => new AbsurdAgent({ id: 'x', model: scriptedModel(echoOnce) }, undefined as never), ConfigurationError);
  });
});

describe('outside a task', () => {
  test('generate and stream reject with NotInTaskError instead of running without durability', async () => {
    const model = scriptedModel(echoOnce);
    const agent = new AbsurdAgent({ id: 'outside', model, tools: echoTools([]) }, harness.absurd);
    await assert.rejects(agent.generate({ prompt: 'hi' }), NotInTaskError);
    await assert.rejects(agent.stream({ prompt: 'hi' }), NotInTaskError);
    assert.equal(model.doGenerateCalls.length + model.doStreamCalls.length, 0);
  });

  test('a durable model used outside a task throws NotInTaskError', async () => {
    const model = scriptedModel(echoOnce);
    await assert.rejects(generateText({ model: durableModel(model, { name: 'writer' }), prompt: 'hi' }), NotInTaskError);
    assert.equal(model.doGenerateCalls.length, 0);
  });

  test('a durable tool used outside a task fails with NotInTaskError instead of running', async () => {
    const calls: string[] = [];
    const result = await generateText({ model: scriptedModel(echoOnce), tools: durableTools(echoTools(calls), { name: 'writer' }), prompt: 'hi' });
    const failure = result.steps[0]!.content.find((part) => part.type === 'tool-error');
    assert.ok(failure && failure.type === 'tool-error' && failure.error instanceof NotInTaskError);
    assert.deepEqual(calls, []);
  });
});

describe('inside a task', () => {
  test('the public shape: generate in a task completes it with the agent output', async () => {
    const calls: string[] = [];
    const agent = new AbsurdAgent({ id: 'analyst', model: scriptedModel(echoOnce), instructions: 'Echo.', tools: echoTools(calls) }, harness.absurd);
    harness.absurd.registerTask({ name: 'analyse' }, async (params: { prompt: string }) => {
      const result = await agent.generate({ prompt: params.prompt });
      return { output: result.text };
    });
    const { taskID, snapshot } = await harness.run('analyse', { prompt: 'Analyse Q3 revenue' });
    assert.deepEqual(snapshot, { state: 'completed', result: { output: 'echoed {"type":"text","value":"ANALYSE Q3 REVENUE"}' } });
    assert.deepEqual(calls, ['Analyse Q3 revenue']);
    const timeline = (await harness.checkpoints(taskID)).map(({ name, state }) => describeCheckpoint(name, state));
    assert.deepEqual(
      timeline.map((entry) => [entry.type, entry.name]),
      [
        ['model-call', 'analyst:1/model:1'],
        ['tool-call', 'analyst:1/model:1/tool:echo:call-1'],
        ['model-call', 'analyst:1/model:2'],
      ],
    );
    const first = timeline[0]!;
    assert.ok(first.type === 'model-call');
    assert.equal(first.modelId, 'mock-model-id');
    assert.equal(first.finishReason, 'tool-calls');
    assert.deepEqual(first.usage, { inputTokens: 10, outputTokens: 5 });
    assert.equal(typeof first.durationMs, 'number');
    const toolCall = timeline[1]!;
    assert.ok(toolCall.type === 'tool-call');
    assert.equal(toolCall.outcome, 'ok');
    assert.equal(toolCall.toolName, 'echo');
    assert.equal(toolCall.toolCallId, 'call-1');
  });

  test('two sequential runs and two concurrent runs of one agent never swap checkpoints', async () => {
    const calls: string[] = [];
    const model = scriptedModel(echoOnce);
    const agent = new AbsurdAgent({ id: 'pair', model, tools: echoTools(calls) }, harness.absurd);
    harness.absurd.registerTask({ name: 'pairs' }, async () => {
      const first = await agent.generate({ prompt: 'one' });
      const second = await agent.generate({ prompt: 'two' });
      const [third, fourth] = await Promise.all([agent.generate({ prompt: 'three' }), agent.generate({ prompt: 'four' })]);
      if (currentAttempt() === 1) throw new Error('crash after every run finished');
      return [first.text, second.text, third.text, fourth.text];
    });
    const { taskID, snapshot } = await harness.run('pairs', {});
    const expected = ['one', 'two', 'three', 'four'].map((word) => `echoed {"type":"text","value":"${word.toUpperCase()}"}`);
    assert.deepEqual(snapshot, { state: 'completed', result: expected });
    // The second attempt replayed everything: each tool ran once, the model was called twice per run.
    assert.deepEqual(calls.sort(), ['four', 'one', 'three', 'two']);
    assert.equal(model.doGenerateCalls.length, 8);
    const names = (await harness.checkpoints(taskID)).map((checkpoint) => checkpoint.name);
    for (const run of [1, 2, 3, 4]) {
      assert.ok(names.includes(`pair:${run}/model:1/tool:echo:call-1`), `run ${run} has its own tool checkpoint`);
    }
  });

  test('concurrent runs started in another order on replay fail with a divergence instead of swapping', async () => {
    const agent = new AbsurdAgent({ id: 'order', model: scriptedModel(echoOnce), tools: echoTools([]) }, harness.absurd);
    harness.absurd.registerTask({ name: 'order' }, async () => {
      const prompts = currentAttempt() === 1 ? ['one', 'two'] : ['two', 'one'];
      await Promise.all(prompts.map((prompt) => agent.generate({ prompt })));
      if (currentAttempt() === 1) throw new Error('crash after both runs');
      return 'swapped silently';
    });
    const { snapshot } = await harness.run('order', {}, { maxAttempts: 2 });
    const failure = failureOf(snapshot);
    assert.equal(failure.name, 'AiSdkAbsurdReplayDivergenceError');
    assert.match(failure.message, /"order:[12]\/model:1"/);
  });

  test('a model and tools swapped in by prepareCall and a model from prepareStep are made durable', async () => {
    const swappedCalls: string[] = [];
    const settingsModel = scriptedModel(() => ({ text: 'the settings model must not be called' }));
    const callModel = scriptedModel(echoOnce, { modelId: 'call-model' });
    const stepModel = scriptedModel(echoOnce, { modelId: 'step-model' });
    const agent = new AbsurdAgent(
      {
        id: 'swapper',
        model: settingsModel,
        prepareCall: ({ options: _options, ...rest }) => ({ ...rest, model: callModel, tools: echoTools(swappedCalls) }),
        prepareStep: ({ stepNumber }) => (stepNumber === 1 ? { model: stepModel } : undefined),
      },
      harness.absurd,
    );
    harness.absurd.registerTask({ name: 'swap' }, async () => {
      const result = await agent.generate({ prompt: 'swap' });
      if (currentAttempt() === 1) throw new Error('crash after the run');
      return result.steps.map((step) => step.model.modelId);
    });
    const { taskID, snapshot } = await harness.run('swap', {});
    assert.deepEqual(snapshot, { state: 'completed', result: ['call-model', 'step-model'] });
    assert.equal(settingsModel.doGenerateCalls.length, 0);
    assert.equal(callModel.doGenerateCalls.length, 1, 'replayed from its checkpoint on attempt 2');
    assert.equal(stepModel.doGenerateCalls.length, 1, 'replayed from its checkpoint on attempt 2');
    assert.deepEqual(swappedCalls, ['swap']);
    const models = (await harness.checkpoints(taskID)).flatMap(({ name, state }) => {
      const entry = describeCheckpoint(name, state);
      return entry.type === 'model-call' ? [entry.modelId] : [];
    });
    assert.deepEqual(models, ['call-model', 'step-model']);
  });

  test('a durable model given to the agent is bound to the agent run, not wrapped twice', async () => {
    const model = scriptedModel(echoOnce);
    const agent = new AbsurdAgent({ id: 'rebound', model: durableModel(model, { name: 'other' }), tools: echoTools([]) }, harness.absurd);
    harness.absurd.registerTask({ name: 'rebound' }, async () => (await agent.generate({ prompt: 'x' })).text);
    const { taskID, snapshot } = await harness.run('rebound', {});
    assert.equal(snapshot.state, 'completed');
    const names = (await harness.checkpoints(taskID)).map((checkpoint) => checkpoint.name);
    assert.deepEqual(names, ['rebound:1/model:1', 'rebound:1/model:1/tool:echo:call-1', 'rebound:1/model:2']);
  });

  test("with approvals: 'return', a tool that needs approval stops the run with the request, as in a plain agent", async () => {
    const calls: string[] = [];
    const agent = new AbsurdAgent(
      {
        id: 'careful',
        model: scriptedModel(echoOnce),
        tools: echoTools(calls),
        toolApproval: { echo: 'user-approval' },
        approvals: 'return',
      },
      harness.absurd,
    );
    harness.absurd.registerTask({ name: 'approve' }, async () => {
      const result = await agent.generate({ prompt: 'needs approval' });
      const request = result.content.find((part) => part.type === 'tool-approval-request');
      return { finishReason: result.finishReason, toolCallId: request?.type === 'tool-approval-request' ? request.toolCall.toolCallId : null };
    });
    const { snapshot } = await harness.run('approve', {});
    assert.deepEqual(snapshot, { state: 'completed', result: { finishReason: 'tool-calls', toolCallId: 'call-1' } });
    assert.deepEqual(calls, []);
  });

  test('createAgentUIStream works with an AbsurdAgent', async () => {
    const agent = new AbsurdAgent({ id: 'ui', model: scriptedModel(echoOnce), tools: echoTools([]) }, harness.absurd);
    harness.absurd.registerTask({ name: 'ui' }, async () => {
      const chunks: UIMessageChunk[] = [];
      const stream = await createAgentUIStream({
        agent,
        uiMessages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hello' }] }],
      });
      for await (const chunk of stream) chunks.push(chunk);
      return chunks.map((chunk) => chunk.type).filter((type) => type.startsWith('tool-output') || type === 'finish');
    });
    const { snapshot } = await harness.run('ui', {});
    assert.deepEqual(snapshot, { state: 'completed', result: ['tool-output-available', 'finish'] });
  });

  test('an agent run inside a durable tool gets checkpoints nested under that tool call', async () => {
    const innerCalls: string[] = [];
    const inner = new AbsurdAgent({ id: 'researcher', model: scriptedModel(echoOnce), tools: echoTools(innerCalls) }, harness.absurd);
    const outer = new AbsurdAgent(
      {
        id: 'lead',
        model: scriptedModel((options) =>
          turnIndex(options) === 0
            ? {
                toolCalls: [
                  { toolCallId: 'call-1', toolName: 'research', input: { topic: 'a' } },
                  { toolCallId: 'call-2', toolName: 'research', input: { topic: 'b' } },
                ],
              }
            : { text: toolOutputsInPrompt(options).join(' + ') },
        ),
        tools: {
          research: tool({
            inputSchema: z.object({ topic: z.string() }),
            execute: async ({ topic }) => (await inner.generate({ prompt: topic })).text,
          }),
        },
      },
      harness.absurd,
    );
    harness.absurd.registerTask({ name: 'nested' }, async () => (await outer.generate({ prompt: 'go' })).text);
    const { taskID, snapshot } = await harness.run('nested', {});
    assert.equal(snapshot.state, 'completed');
    assert.deepEqual(innerCalls.sort(), ['a', 'b']);
    const names = new Set((await harness.checkpoints(taskID)).map((checkpoint) => checkpoint.name));
    for (const call of ['call-1', 'call-2']) {
      const scope = `lead:1/model:1/tool:research:${call}/researcher:1`;
      assert.ok(names.has(`${scope}/model:1`) && names.has(`${scope}/model:1/tool:echo:call-1`) && names.has(`${scope}/model:2`), scope);
    }
  });

  test('async-iterable tools forward their yields live and replay their final value', async () => {
    const yields: number[] = [];
    const agent = new AbsurdAgent(
      {
        id: 'progress',
        model: scriptedModel((options) =>
          turnIndex(options) === 0
            ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'count', input: { to: 3 } }] }
            : { text: toolOutputsInPrompt(options).join('') },
        ),
        tools: {
          count: tool({
            inputSchema: z.object({ to: z.number() }),
            async *execute({ to }) {
              for (let value = 1; value <= to; value++) {
                yields.push(value);
                yield { value, done: value === to };
              }
            },
          }),
        },
      },
      harness.absurd,
    );
    harness.absurd.registerTask({ name: 'count' }, async () => {
      const result = await agent.stream({ prompt: 'count' });
      const preliminary: unknown[] = [];
      for await (const part of result.stream) if (part.type === 'tool-result' && part.preliminary) preliminary.push(part.output);
      const text = await result.text;
      if (currentAttempt() === 1) throw new Error('crash after the run');
      return { text, preliminary };
    });
    const { snapshot } = await harness.run('count', {});
    assert.deepEqual(yields, [1, 2, 3], 'the tool ran once');
    assert.deepEqual(snapshot, {
      state: 'completed',
      result: { text: '{"type":"json","value":{"value":3,"done":true}}', preliminary: [{ value: 3, done: true }] },
    });
  });
});

describe('the client an agent is built with', () => {
  test('an agent built with another client refuses to run inside this client\'s task, and calls no model', async () => {
    const { Absurd } = await import('../../src/client/absurd.ts');
    const other = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: harness.absurd.database, queueName: harness.absurd.queue });
    try {
      const model = scriptedModel(echoOnce);
      const stranger = new AbsurdAgent({ id: 'stranger', model, tools: echoTools([]) }, other);
      harness.absurd.registerTask({ name: 'stranger' }, async () => (await stranger.generate({ prompt: 'hi' })).text);
      const { snapshot } = await harness.run('stranger', {}, { maxAttempts: 1 });
      const failure = failureOf(snapshot);
      assert.equal(failure.name, 'AiSdkAbsurdConfigurationError');
      assert.match(failure.message, /was built with another Absurd client than the one whose worker runs this task/);
      assert.equal(model.doGenerateCalls.length, 0);
    } finally {
      await other.close();
    }
  });
});
