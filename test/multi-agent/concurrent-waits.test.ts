// Work of one task execution that is still going when another part of it waits: two agent runs side by
// side, or two tool calls of one step. The wait must not suspend the task under that work: a model call
// whose answer was not yet written would be paid again on resume, a tool half run would run twice, an
// approval not yet requested would not be listed while the task sleeps.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { sleepTool } from '../../src/tools/sleep-tool.ts';
import { waitForEventTool } from '../../src/tools/wait-for-event-tool.ts';
import { generateResult, silentLog, streamOf, streamParts, toolOutputsInPrompt, turnIndex, type TurnScript } from '../agent/agent-harness.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

/** A model that answers from the prompt after `delayMs`, and keeps every prompt it was asked. */
function slowModel(script: TurnScript, delayMs: number) {
  const calls: LanguageModelV4CallOptions[] = [];
  const model = new MockLanguageModelV4({
    doGenerate: async (options) => {
      calls.push(options);
      await delay(delayMs);
      return generateResult(script(options));
    },
    doStream: async (options) => {
      calls.push(options);
      await delay(delayMs);
      return { stream: streamOf(streamParts(script(options))) };
    },
  });
  return { model, calls };
}

function callThenReport(toolCalls: readonly { toolCallId: string; toolName: string; input: unknown }[]): TurnScript {
  return (options) => (turnIndex(options) === 0 ? { toolCalls: [...toolCalls] } : { text: `tools said ${toolOutputsInPrompt(options).join(' | ')}` });
}

/** A tool that takes `delayMs` and counts how often it really ran. */
function slowSideEffect(delayMs: number) {
  const runs: number[] = [];
  const sideEffect = tool({
    description: 'Charges a card.',
    inputSchema: z.object({ cents: z.number() }),
    execute: async ({ cents }) => {
      await delay(delayMs);
      runs.push(cents);
      return { charged: cents };
    },
  });
  return { sideEffect, runs };
}

async function runStates(absurd: Absurd, taskID: string): Promise<string[]> {
  const { rows } = await database.query(`select state from absurd."r_${absurd.queue}" where task_id = $1 order by attempt`, [taskID]);
  return rows.map((row) => row.state as string);
}

async function workUntil(absurd: Absurd, taskID: string, states: readonly string[], rounds = 20): Promise<string | undefined> {
  for (let round = 0; round < rounds; round++) {
    await absurd.workBatch('concurrent-waits', 60);
    const state = (await absurd.fetchTaskResult(taskID))?.state;
    if (state && states.includes(state)) return state;
    await delay(100);
  }
  return (await absurd.fetchTaskResult(taskID))?.state;
}

function newClient(): Absurd {
  return new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('gate'), log: silentLog });
}

const paidEvent = waitForEventTool({ events: ['paid'], eventName: (event, { taskID }) => `${event}:${taskID}` });

for (const call of ['generate', 'stream'] as const) {
  describe(`a wait beside work still going (${call})`, () => {
    test('a run waiting for an event does not suspend the task under a sibling run’s slow model call', async () => {
      const absurd = newClient();
      const { sideEffect, runs } = slowSideEffect(0);
      const worker = slowModel(callThenReport([{ toolCallId: 'call-1', toolName: 'charge', input: { cents: 250 } }]), 300);
      const waiter = slowModel(callThenReport([{ toolCallId: 'call-1', toolName: 'waitForEvent', input: { event: 'paid' } }]), 0);
      const charging = new AbsurdAgent({ id: 'charging', model: worker.model, tools: { charge: sideEffect } }, absurd);
      const waiting = new AbsurdAgent({ id: 'waiting', model: waiter.model, tools: { waitForEvent: paidEvent } }, absurd);
      absurd.registerTask({ name: 'both' }, async () => {
        const runOne = async (agent: typeof charging | typeof waiting) => {
          if (call === 'generate') return (await agent.generate({ prompt: 'go' })).text;
          return await (await agent.stream({ prompt: 'go' })).text;
        };
        return await Promise.all([runOne(charging), runOne(waiting)]);
      });
      try {
        await absurd.createQueue();
        const { taskID } = await absurd.spawn('both', {});
        assert.equal(await workUntil(absurd, taskID, ['sleeping', 'completed', 'failed'], 1), 'sleeping');
        assert.deepEqual(await runStates(absurd, taskID), ['sleeping'], 'the attempt suspended, not failed');
        await absurd.emitEvent(`paid:${taskID}`, { ok: true });
        assert.equal(await workUntil(absurd, taskID, ['completed', 'failed']), 'completed', JSON.stringify(await absurd.fetchTaskResult(taskID)));
        assert.equal(worker.calls.length, 2, 'each model call of the charging run was made once: none was lost to the suspension');
        assert.deepEqual(runs, [250], 'the charge ran once');
        assert.equal(waiter.calls.length, 2);
        const result = (await absurd.fetchTaskResult(taskID))!;
        assert.match(JSON.stringify(result.state === 'completed' ? result.result : null), /charged/);
      } finally {
        await absurd.close();
      }
    });

    test('a tool call that waits does not suspend the task under a sibling tool call of its step', async () => {
      const absurd = newClient();
      const { sideEffect, runs } = slowSideEffect(300);
      const model = slowModel(
        callThenReport([
          { toolCallId: 'call-1', toolName: 'charge', input: { cents: 125 } },
          { toolCallId: 'call-2', toolName: 'waitForEvent', input: { event: 'paid' } },
        ]),
        0,
      );
      const agent = new AbsurdAgent({ id: 'siblings', model: model.model, tools: { charge: sideEffect, waitForEvent: paidEvent } }, absurd);
      absurd.registerTask({ name: 'siblings' }, async () =>
        call === 'generate' ? (await agent.generate({ prompt: 'go' })).text : await (await agent.stream({ prompt: 'go' })).text,
      );
      try {
        await absurd.createQueue();
        const { taskID } = await absurd.spawn('siblings', {});
        assert.equal(await workUntil(absurd, taskID, ['sleeping', 'completed', 'failed'], 1), 'sleeping');
        assert.deepEqual(runs, [125], 'the charge finished before the task slept');
        await absurd.emitEvent(`paid:${taskID}`, { ok: true });
        assert.equal(await workUntil(absurd, taskID, ['completed', 'failed']), 'completed');
        assert.deepEqual(runs, [125], 'the charge was replayed from its checkpoint, not run again');
        assert.equal(model.calls.length, 2);
        assert.match(model.calls[1] ? JSON.stringify(model.calls[1].prompt) : '', /"received":true/);
      } finally {
        await absurd.close();
      }
    });
  });
}

test('a durable sleep beside a slow sibling tool call sleeps after it, and the sibling runs once', async () => {
  const absurd = newClient();
  const { sideEffect, runs } = slowSideEffect(300);
  const model = slowModel(
    callThenReport([
      { toolCallId: 'call-1', toolName: 'charge', input: { cents: 75 } },
      { toolCallId: 'call-2', toolName: 'sleep', input: { seconds: 1 } },
    ]),
    0,
  );
  const agent = new AbsurdAgent({ id: 'sleeper', model: model.model, tools: { charge: sideEffect, sleep: sleepTool() } }, absurd);
  absurd.registerTask({ name: 'sleeper' }, async () => (await agent.generate({ prompt: 'go' })).text);
  try {
    await absurd.createQueue();
    const { taskID } = await absurd.spawn('sleeper', {});
    assert.equal(await workUntil(absurd, taskID, ['sleeping', 'completed', 'failed'], 1), 'sleeping');
    assert.deepEqual(runs, [75]);
    assert.equal(await workUntil(absurd, taskID, ['completed', 'failed'], 40), 'completed');
    assert.deepEqual(runs, [75], 'the charge ran once');
    assert.equal(model.calls.length, 2);
  } finally {
    await absurd.close();
  }
});
