import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { tool, type ToolSet } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import {
  currentAttempt,
  mockUsage,
  openAgentHarness,
  scriptedModel,
  streamOf,
  toolOutputsInPrompt,
  turnIndex,
  type AgentHarness,
  failureOf,
} from './agent-harness.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { recordedTaskFailure } from '../../src/client/current-task.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

/** An agent that calls `tools[toolName]` once with `input`, then answers with what the tool said. */
function oneToolAgent(name: string, tools: ToolSet, toolName: string, input: unknown, extra: Record<string, unknown> = {}) {
  const model = scriptedModel((options) =>
    turnIndex(options) === 0
      ? { toolCalls: [{ toolCallId: 'call-1', toolName, input }] }
      : { text: `tool said ${toolOutputsInPrompt(options).join(',')}` },
  );
  return { model, agent: new AbsurdAgent({ id: name, model, tools, ...extra }, harness.absurd) };
}

describe('control flow is never swallowed as a tool error', () => {
  test('cancelling the task while a tool runs stops the run: no further model call', async () => {
    let taskID = '';
    const { model, agent } = oneToolAgent(
      'cancel',
      {
        slow: tool({
          inputSchema: z.object({}),
          execute: async () => {
            await harness.absurd.cancelTask(taskID);
            return 'finished after the cancel';
          },
        }),
      },
      'slow',
      {},
    );
    harness.absurd.registerTask({ name: 'cancel' }, async (_params, ctx) => {
      taskID = ctx.taskID;
      return (await agent.generate({ prompt: 'go' })).text;
    });
    const { snapshot } = await harness.run('cancel', {});
    assert.equal(snapshot.state, 'cancelled');
    assert.equal(model.doGenerateCalls.length, 1);
  });

  test('a heartbeat notices the cancel while a long tool runs and aborts the tool', async () => {
    let taskID = '';
    const heartbeatsBefore = harness.crash.calls.filter((name) => name === 'extend_claim').length;
    const { model, agent } = oneToolAgent(
      'cancel-heartbeat',
      {
        wait: tool({
          inputSchema: z.object({}),
          execute: async (_input, { abortSignal }): Promise<string> => {
            await harness.absurd.cancelTask(taskID);
            // Runs until the run is aborted: only a heartbeat can tell it the task was cancelled.
            await new Promise((resolve) => abortSignal?.addEventListener('abort', resolve, { once: true }));
            throw abortSignal?.reason;
          },
        }),
      },
      'wait',
      {},
    );
    harness.absurd.registerTask({ name: 'cancel-heartbeat' }, async (_params, ctx) => {
      taskID = ctx.taskID;
      return (await agent.generate({ prompt: 'go' })).text;
    });
    const { snapshot } = await harness.run('cancel-heartbeat', {}, { claimTimeout: 1 });
    assert.equal(snapshot.state, 'cancelled');
    assert.equal(model.doGenerateCalls.length, 1);
    assert.ok(harness.crash.calls.filter((name) => name === 'extend_claim').length > heartbeatsBefore);
  });

  test('a tool that suspends the task (awaitEvent) suspends it instead of failing the tool', async () => {
    const effects: string[] = [];
    const { model, agent } = oneToolAgent(
      'suspend',
      {
        ask: tool({
          inputSchema: z.object({}),
          execute: async () => {
            const answer = (await getCurrentTask()!.ctx.awaitEvent('answer-ready')) as { answer: string };
            effects.push(answer.answer);
            return answer.answer;
          },
        }),
      },
      'ask',
      {},
    );
    harness.absurd.registerTask({ name: 'suspend' }, async () => (await agent.generate({ prompt: 'ask' })).text);
    const { taskID } = await harness.absurd.spawn('suspend', {});
    await harness.absurd.workBatch('agent-test', 60, 1);
    assert.equal((await harness.absurd.fetchTaskResult(taskID))?.state, 'sleeping');
    assert.equal(model.doGenerateCalls.length, 1, 'the model did not see a tool error');
    await harness.absurd.emitEvent('answer-ready', { answer: '42' });
    await harness.absurd.workBatch('agent-test', 60, 1);
    assert.deepEqual(await harness.absurd.fetchTaskResult(taskID), { state: 'completed', result: 'tool said {"type":"text","value":"42"}' });
    assert.deepEqual(effects, ['42']);
    assert.equal(model.doGenerateCalls.length, 2, 'the first model call was replayed');
  });
});

describe('tool outputs the codec cannot store fail the task at the first run', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['a function', () => ({ rows: [{ format: () => 'x' }] }), /Tool "report".*output\.rows\[0\]\.format.*function/s],
    [
      'a circular reference',
      () => {
        const node: Record<string, unknown> = { name: 'root' };
        node.self = node;
        return node;
      },
      /Tool "report".*output\.self.*circular/s,
    ],
  ];
  for (const [what, output, message] of cases) {
    test(what, async () => {
      const taskName = `codec-${what.replaceAll(' ', '-')}`;
      const { model, agent } = oneToolAgent(
        taskName,
        { report: tool({ inputSchema: z.object({}), execute: async (): Promise<unknown> => output() }) },
        'report',
        {},
      );
      harness.absurd.registerTask({ name: taskName }, async () => (await agent.generate({ prompt: 'go' })).text);
      const { snapshot } = await harness.run(taskName, {}, { maxAttempts: 1 });
      assert.equal(snapshot.state, 'failed');
      const failure = failureOf(snapshot);
      assert.equal(failure.name, 'AiSdkAbsurdCheckpointCodecError');
      assert.match(failure.message, message);
      assert.equal(model.doGenerateCalls.length, 1, 'the model never saw the output as a tool error');
    });
  }

  test('BigInt, Date and Uint8Array outputs round-trip through the checkpoint', async () => {
    const seen: unknown[] = [];
    const { agent } = oneToolAgent(
      'rich-values',
      {
        ledger: tool({
          inputSchema: z.object({}),
          execute: async () => ({ total: 2n ** 70n, at: new Date('2025-03-04T05:06:07.089Z'), bytes: new Uint8Array([0, 255]) }),
          toModelOutput: ({ output }) => ({ type: 'text', value: `${output.total} at ${output.at.toISOString()} (${output.bytes.length} bytes)` }),
        }),
      },
      'ledger',
      {},
    );
    harness.absurd.registerTask({ name: 'rich-values' }, async () => {
      const result = await agent.generate({ prompt: 'go' });
      seen.push(result.steps[0]!.toolResults[0]!.output);
      if (currentAttempt() === 1) throw new Error('crash after the run');
      return result.text;
    });
    const { snapshot } = await harness.run('rich-values', {});
    assert.deepEqual(snapshot, {
      state: 'completed',
      result: 'tool said {"type":"text","value":"1180591620717411303424 at 2025-03-04T05:06:07.089Z (2 bytes)"}',
    });
    assert.deepEqual(seen[1], seen[0]);
    assert.equal((seen[1] as { total: bigint }).total, 2n ** 70n);
    assert.ok((seen[1] as { at: Date }).at instanceof Date);
    assert.ok((seen[1] as { bytes: Uint8Array }).bytes instanceof Uint8Array);
  });

  test('an oversized checkpoint fails the task with its size and the limit', async () => {
    const { agent } = oneToolAgent(
      'oversized',
      { dump: tool({ inputSchema: z.object({}), execute: async () => 'x'.repeat(5000) }) },
      'dump',
      {},
      { maxCheckpointBytes: 2000 },
    );
    harness.absurd.registerTask({ name: 'oversized' }, async () => (await agent.generate({ prompt: 'go' })).text);
    const { snapshot } = await harness.run('oversized', {}, { maxAttempts: 1 });
    assert.equal(snapshot.state, 'failed');
    const failure = failureOf(snapshot);
    assert.equal(failure.name, 'AiSdkAbsurdCheckpointSizeError');
    assert.match(failure.message, /Tool "dump".*"oversized:1\/model:1\/tool:dump:call-1" of 50\d\d bytes, over the limit of 2000 bytes/);
  });
});

describe('model streams that fail are not checkpointed', () => {
  function breakingStreamModel(brokenPart: 'error' | 'no-finish') {
    return new MockLanguageModelV4({
      doStream: async () => {
        const parts: LanguageModelV4StreamPart[] = [
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: 'partial ' },
        ];
        if (currentAttempt() === 1) {
          if (brokenPart === 'error') parts.push({ type: 'error', error: new Error('connection reset by provider') });
        } else {
          parts.push({ type: 'text-delta', id: 't', delta: 'and complete' }, { type: 'text-end', id: 't' });
          parts.push({ type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage: mockUsage });
        }
        return { stream: streamOf(parts) };
      },
    });
  }

  for (const broken of ['error', 'no-finish'] as const) {
    test(`a stream that ${broken === 'error' ? 'errors' : 'ends without finish'} fails the attempt; the retry calls the model again`, async () => {
      const model = breakingStreamModel(broken);
      const agent = new AbsurdAgent({ id: `broken-${broken}`, model, onError: () => {} }, harness.absurd);
      const failures: string[] = [];
      harness.absurd.registerTask({ name: `broken-${broken}` }, async () => {
        const result = await agent.stream({ prompt: 'go' });
        try {
          return await result.text;
        } catch (error) {
          failures.push((error as Error).message);
          throw error;
        }
      });
      const { taskID, snapshot } = await harness.run(`broken-${broken}`, {});
      assert.deepEqual(snapshot, { state: 'completed', result: 'partial and complete' });
      assert.equal(model.doStreamCalls.length, 2);
      assert.equal(failures.length, 1);
      assert.match(failures[0]!, broken === 'error' ? /connection reset by provider/ : /ended without a finish part/);
      assert.deepEqual((await harness.checkpoints(taskID)).map((checkpoint) => checkpoint.name), [`broken-${broken}:1/model:1`]);
    });
  }

  test('a handler that only reads the stream still learns that the run failed', async () => {
    const agent = new AbsurdAgent({ id: 'stream-only', model: breakingStreamModel('error'), onError: () => {} }, harness.absurd);
    const recorded: unknown[] = [];
    harness.absurd.registerTask({ name: 'stream-only' }, async () => {
      const result = await agent.stream({ prompt: 'go' });
      const types: string[] = [];
      for await (const part of result.stream) types.push(part.type);
      recorded.push(recordedTaskFailure(getCurrentTask()!)?.error);
      return types.at(-1);
    });
    await harness.run('stream-only', {}, { maxAttempts: 1 });
    assert.match(String(recorded[0]), /connection reset by provider/);
  });
});

describe('response metadata the provider does not give is pinned inside the checkpoint', () => {
  for (const mode of ['generate', 'stream'] as const) {
    test(mode, async () => {
      const model = scriptedModel((options) =>
        turnIndex(options) === 0 ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'noop', input: {} }] } : { text: 'done' },
      );
      const agent = new AbsurdAgent(
        { id: `pin-${mode}`, model, tools: { noop: tool({ inputSchema: z.object({}), execute: async () => 'ok' }) } },
        harness.absurd,
      );
      const responses: unknown[] = [];
      harness.absurd.registerTask({ name: `pin-${mode}` }, async () => {
        const steps = mode === 'generate' ? (await agent.generate({ prompt: 'go' })).steps : await (await agent.stream({ prompt: 'go' })).steps;
        responses.push(steps.map((step) => ({ id: step.response.id, timestamp: step.response.timestamp, modelId: step.response.modelId })));
        if (currentAttempt() === 1) throw new Error('crash after the run');
        return 'ok';
      });
      const { snapshot } = await harness.run(`pin-${mode}`, {});
      assert.equal(snapshot.state, 'completed');
      assert.equal(responses.length, 2);
      assert.deepEqual(responses[1], responses[0]);
      const [first] = responses[0] as Array<{ id: string; timestamp: Date; modelId: string }>;
      assert.ok(first!.id.length > 0 && first!.timestamp instanceof Date && first!.modelId === 'mock-model-id');
    });
  }
});
