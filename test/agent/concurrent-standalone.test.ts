// Standalone durable models and tools number their model calls per scope (name). Two generateText /
// streamText calls that share a scope at the same time would number their checkpoints in the order
// the calls happen to run, so a resume with other timing would find the wrong answers. The first
// concurrent use is refused with a ConfigurationError that says how to give each call its own scope;
// calls one after another, and concurrent calls with their own names, replay exactly.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { generateText, isStepCount, streamText, tool } from 'ai';
import { z } from 'zod';
import { durableModel } from '../../src/agent/durable-model.ts';
import { durableTools } from '../../src/agent/durable-tool.ts';
import { currentAttempt, failureOf, openAgentHarness, scriptedModel, toolOutputsInPrompt, turnIndex, type AgentHarness } from './agent-harness.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

/** The key a prompt asks about: the text of its first user message. */
function keyOf(options: LanguageModelV4CallOptions): string {
  const user = options.prompt.find((message) => message.role === 'user');
  const part = user?.role === 'user' ? user.content[0] : undefined;
  return part?.type === 'text' ? part.text : '?';
}

/** Looks the key up, then answers with what the tool said; answers from the prompt alone. */
const lookupModel = () =>
  scriptedModel((options) =>
    turnIndex(options) === 0
      ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'lookup', input: { key: keyOf(options) } }] }
      : { text: `${keyOf(options)} is ${toolOutputsInPrompt(options).join(',')}` },
  );

/** A lookup whose speed depends on the key and is reversed on later attempts, as after a crash. */
function lookupTools(effects: string[]) {
  return {
    lookup: tool({
      inputSchema: z.object({ key: z.string() }),
      execute: async ({ key }) => {
        effects.push(`${key}@${currentAttempt()}`);
        const slow = currentAttempt() === 1 ? key === 'a' : key === 'b';
        await new Promise((resolve) => setTimeout(resolve, slow ? 150 : 5));
        return key.toUpperCase();
      },
    }),
  };
}

type Api = 'generateText' | 'streamText';

function callText(api: Api, options: Parameters<typeof generateText>[0] & Parameters<typeof streamText>[0]): Promise<string> {
  const settings = { ...options, maxRetries: 0, stopWhen: isStepCount(5) };
  return api === 'generateText' ? generateText(settings).then((result) => result.text) : Promise.resolve(streamText(settings).text);
}

describe('two concurrent calls sharing one durable model and tool scope', () => {
  for (const api of ['generateText', 'streamText'] as const) {
    test(`${api}: the first concurrent use fails the task with a ConfigurationError that says how to fix it`, async () => {
      const taskName = `shared-${api}`;
      const effects: string[] = [];
      const model = lookupModel();
      const shared = { model: durableModel(model, { name: 'writer' }), tools: durableTools(lookupTools(effects), { name: 'writer' }) };
      harness.absurd.registerTask({ name: taskName }, async () => {
        const answers = await Promise.all([callText(api, { ...shared, prompt: 'a' }), callText(api, { ...shared, prompt: 'b' })]);
        if (currentAttempt() === 1) throw new Error('crash after both calls');
        return answers;
      });
      const { taskID, snapshot } = await harness.run(taskName, {}, { maxAttempts: 2 });
      const failure = failureOf(snapshot);
      assert.equal(failure.name, 'AiSdkAbsurdConfigurationError');
      assert.match(failure.message, /Durable model "writer" is used by two generateText\/streamText calls at once/);
      assert.match(failure.message, /durableModel\(model, \{ name: "writer-1" \}\) with durableTools\(tools, \{ name: "writer-1" \}\)/);
      // Refused once the overlapping first model calls asked for tools, before any tool ran.
      assert.deepEqual(effects, []);
      assert.ok((await harness.checkpoints(taskID)).every((checkpoint) => !checkpoint.name.includes('/tool:')));
    });
  }

  test('calls that overlap but do not go on to another step may share a name', async () => {
    const model = scriptedModel((options) => ({ text: `answer to ${keyOf(options)}` }));
    const writer = durableModel(model, { name: 'writer' });
    harness.absurd.registerTask({ name: 'overlap-one-step' }, async () => {
      const answers = await Promise.all([callText('generateText', { model: writer, prompt: 'a' }), callText('streamText', { model: writer, prompt: 'b' })]);
      if (currentAttempt() === 1) throw new Error('crash after both calls');
      return answers;
    });
    const { snapshot } = await harness.run('overlap-one-step', {});
    assert.deepEqual(snapshot, { state: 'completed', result: ['answer to a', 'answer to b'] });
    assert.equal(model.doGenerateCalls.length + model.doStreamCalls.length, 2, 'the second attempt replayed both');
  });
});

describe('what the error advises works', () => {
  for (const api of ['generateText', 'streamText'] as const) {
    test(`${api}: concurrent calls with their own names resume with other timing and keep their answers`, async () => {
      const taskName = `own-names-${api}`;
      const effects: string[] = [];
      const model = lookupModel();
      const tools = lookupTools(effects);
      const scoped = (name: string) => ({ model: durableModel(model, { name }), tools: durableTools(tools, { name }) });
      const answers: string[][] = [];
      harness.absurd.registerTask({ name: taskName }, async () => {
        const both = await Promise.all([callText(api, { ...scoped('writer-1'), prompt: 'a' }), callText(api, { ...scoped('writer-2'), prompt: 'b' })]);
        answers.push(both);
        if (currentAttempt() === 1) throw new Error('crash after both calls');
        return both;
      });
      const { snapshot } = await harness.run(taskName, {});
      const expected = ['a is {"type":"text","value":"A"}', 'b is {"type":"text","value":"B"}'];
      assert.deepEqual(snapshot, { state: 'completed', result: expected });
      assert.deepEqual(answers, [expected, expected]);
      assert.deepEqual(effects.sort(), ['a@1', 'b@1'], 'each tool ran once');
    });

    test(`${api}: calls one after another may share a name`, async () => {
      const taskName = `sequential-${api}`;
      const effects: string[] = [];
      const model = lookupModel();
      const shared = { model: durableModel(model, { name: 'writer' }), tools: durableTools(lookupTools(effects), { name: 'writer' }) };
      const answers: string[][] = [];
      harness.absurd.registerTask({ name: taskName }, async () => {
        const first = await callText(api, { ...shared, prompt: 'a' });
        const second = await callText(api, { ...shared, prompt: 'b' });
        answers.push([first, second]);
        if (currentAttempt() === 1) throw new Error('crash after both calls');
        return [first, second];
      });
      const { taskID, snapshot } = await harness.run(taskName, {});
      assert.equal(snapshot.state, 'completed');
      assert.deepEqual(answers[1], answers[0]);
      assert.deepEqual(effects, ['a@1', 'b@1']);
      assert.deepEqual(
        (await harness.checkpoints(taskID)).map((checkpoint) => checkpoint.name),
        ['writer/model:1', 'writer/model:1/tool:lookup:call-1', 'writer/model:2', 'writer/model:3', 'writer/model:3/tool:lookup:call-1', 'writer/model:4'],
      );
    });
  }
});

test('a stream whose consumer stopped reading does not stand in the way of the next call of its name', async () => {
  const model = scriptedModel((options) => ({ text: `answer to ${keyOf(options)}: one two three four five` }));
  const writer = durableModel(model, { name: 'writer' });
  const answers: string[][] = [];
  harness.absurd.registerTask({ name: 'stop-reading' }, async () => {
    const stream = streamText({ model: writer, prompt: 'a', maxRetries: 0 });
    let firstChunk = '';
    for await (const chunk of stream.textStream) {
      firstChunk = chunk;
      break;
    }
    const next = (await generateText({ model: writer, prompt: 'b', maxRetries: 0 })).text;
    answers.push([firstChunk, next]);
    if (currentAttempt() === 1) throw new Error('crash after both calls');
    return next;
  });
  const { snapshot } = await harness.run('stop-reading', {});
  assert.deepEqual(snapshot, { state: 'completed', result: 'answer to b: one two three four five' });
  assert.deepEqual(answers[1], answers[0]);
});
