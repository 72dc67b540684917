import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateText, isStepCount, streamText, tool, wrapLanguageModel } from 'ai';
import { z } from 'zod';
import {
  currentAttempt,
  openAgentHarness,
  scriptedModel,
  toolOutputsInPrompt,
  turnIndex,
  type AgentHarness,
} from './agent-harness.ts';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { absurdModelMiddleware, durableModel, durableModelMiddleware, isDurableModel } from '../../src/agent/durable-model.ts';
import { durableTool, durableTools } from '../../src/agent/durable-tool.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

const lookupScript = scriptedModel((options) =>
  turnIndex(options) === 0
    ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'lookup', input: { key: 'a' } }] }
    : { text: `found ${toolOutputsInPrompt(options).join(',')}` },
);

function lookupTools(effects: string[]) {
  return {
    lookup: tool({
      inputSchema: z.object({ key: z.string() }),
      execute: async ({ key }) => {
        effects.push(key);
        return { key, value: key.repeat(3) };
      },
    }),
  };
}

for (const mode of ['generateText', 'streamText'] as const) {
  test(`${mode} with a durable model and durable tools of one name replays after a crash`, async () => {
    const model = scriptedModel((options) =>
      turnIndex(options) === 0
        ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'lookup', input: { key: 'a' } }] }
        : { text: `found ${toolOutputsInPrompt(options).join(',')}` },
    );
    const effects: string[] = [];
    const name = `writer-${mode}`;
    const durable = { model: durableModel(model, { name }), tools: durableTools(lookupTools(effects), { name }) };
    const texts: string[] = [];
    harness.absurd.registerTask({ name }, async () => {
      const options = { ...durable, prompt: 'find a', maxRetries: 0, stopWhen: isStepCount(5) };
      const text = mode === 'generateText' ? (await generateText(options)).text : await streamText(options).text;
      texts.push(text);
      if (currentAttempt() === 1) throw new Error('crash after the run');
      return text;
    });
    const { taskID, snapshot } = await harness.run(name, {});
    assert.equal(snapshot.state, 'completed');
    assert.deepEqual(texts[1], texts[0]);
    assert.deepEqual(effects, ['a']);
    assert.equal(model.doGenerateCalls.length + model.doStreamCalls.length, 2);
    assert.deepEqual(
      (await harness.checkpoints(taskID)).map((checkpoint) => checkpoint.name),
      [`${name}/model:1`, `${name}/model:1/tool:lookup:call-1`, `${name}/model:2`],
    );
  });
}

test('durableModelMiddleware composes with wrapLanguageModel; a durable model nested in another passes calls through', async () => {
  const model = scriptedModel(() => ({ text: 'plain' }));
  const byHand = wrapLanguageModel({ model, middleware: durableModelMiddleware({ name: 'inner' }) });
  assert.equal(isDurableModel(byHand), false);
  const agent = new AbsurdAgent({ id: 'outer', model: byHand }, harness.absurd);
  harness.absurd.registerTask({ name: 'nested-model' }, async () => (await agent.generate({ prompt: 'x' })).text);
  const { taskID, snapshot } = await harness.run('nested-model', {});
  assert.deepEqual(snapshot, { state: 'completed', result: 'plain' });
  assert.deepEqual((await harness.checkpoints(taskID)).map((checkpoint) => checkpoint.name), ['outer:1/model:1']);
});

test('durableTool makes a single tool durable under its tool name', async () => {
  const effects: string[] = [];
  const lookup = durableTool(lookupTools(effects).lookup, { name: 'single', toolName: 'lookup' });
  harness.absurd.registerTask({ name: 'single-tool' }, async () => {
    const result = await generateText({ model: durableModel(lookupScript, { name: 'single' }), tools: { lookup }, prompt: 'x' });
    if (currentAttempt() === 1) throw new Error('crash after the run');
    return result.text;
  });
  const { taskID, snapshot } = await harness.run('single-tool', {});
  assert.equal(snapshot.state, 'completed');
  assert.deepEqual(effects, ['a']);
  assert.ok((await harness.checkpoints(taskID)).some((checkpoint) => checkpoint.name === 'single/model:1/tool:lookup:call-1'));
});

test('tools without execute are left as they are', () => {
  const clientSide = tool({ inputSchema: z.object({}), outputSchema: z.string() });
  const wrapped = durableTools({ clientSide }, { name: 'ui' });
  assert.equal(wrapped.clientSide, clientSide);
});

test('the deprecated names still work: absurdModelMiddleware is durableModelMiddleware', () => {
  assert.equal(absurdModelMiddleware, durableModelMiddleware);
  const listing: import('../../src/agent/checkpoint-format.ts').McpToolListingCheckpoint = {
    kind: 'mcp-tool-listing',
    clientName: 'github',
    toolCount: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1,
  };
  const renamed: import('../../src/agent/checkpoint-format.ts').MCPToolListingCheckpoint = listing;
  assert.equal(renamed.clientName, 'github');
});
