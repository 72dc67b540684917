// Bad-input catalogue: durable agents set up wrongly. An agent without a stable name cannot be built,
// and a durable agent, model or tool called outside an Absurd task refuses to run rather than running
// without durability: no model request is sent, no tool runs, nothing is stored.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, tool } from 'ai';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { durableModel } from '../../src/agent/durable-model.ts';
import { durableTools } from '../../src/agent/durable-tool.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { NotInTaskError } from '../../src/errors/not-in-task-error.ts';
import { startCatalogueHarness, type CatalogueHarness } from './agent-catalogue-harness.ts';
import { assertNothingStoredChanged, clearError, storedState } from './stored-state.ts';

describe('bad input: agent setup and calls outside a task', () => {
  let harness: CatalogueHarness;
  let executions: number;
  const tools = () => ({
    produce: tool({
      inputSchema: jsonSchema<{ label: string }>({ type: 'object', properties: { label: { type: 'string' } } }),
      execute: async () => {
        executions += 1;
        return 'produced';
      },
    }),
  });
  const model = () => createOpenAI({ baseURL: harness.model.baseURL, apiKey: 'catalogue-key' }).chat('gpt-catalogue');

  before(async () => {
    harness = await startCatalogueHarness();
    await harness.run('stored before the catalogue', () => ({ ok: true }));
  });
  after(async () => {
    await harness?.close();
  });

  const unnamed = [/stable name/, /new AbsurdAgent\(settings, absurd, \{ name: "analyst" \}\)/, /or set id in its settings/];

  test('an agent with neither a name nor an id is refused, and the error says how to name it', () => {
    assert.throws(() => new AbsurdAgent({ model: model(), tools: tools() }, harness.absurd), clearError(ConfigurationError, ...unnamed));
  });

  test('an empty name is refused like a missing one', () => {
    assert.throws(() => new AbsurdAgent({ id: '', model: model() }, harness.absurd), clearError(ConfigurationError, /name/));
    assert.throws(() => new AbsurdAgent({ model: model() }, harness.absurd, { name: '' }), clearError(ConfigurationError, /name/));
  });

  test('a name that would break checkpoint names ("/") is refused', () => {
    assert.throws(() => new AbsurdAgent({ model: model() }, harness.absurd, { name: 'team/analyst' }), clearError(ConfigurationError, /\//));
  });

  test('a durable model without a name is refused with an example', () => {
    assert.throws(() => durableModel(model(), { name: '' }), clearError(ConfigurationError, /durableModel\(model, \{ name: "writer" \}\)/));
  });

  for (const method of ['generate', 'stream'] as const) {
    test(`agent.${method}() outside a task rejects with NotInTaskError; nothing runs and nothing is stored`, async () => {
      const stored = await storedState(harness.database);
      const requests = harness.model.requests.length;
      executions = 0;
      const agent = new AbsurdAgent({ model: model(), tools: tools() }, harness.absurd, { name: 'outside' });
      await assert.rejects(
        method === 'generate' ? agent.generate({ prompt: 'hello' }) : agent.stream({ prompt: 'hello' }),
        clearError(NotInTaskError, new RegExp(`AbsurdAgent "outside"\\.${method}\\(\\)`), /outside an Absurd task/, /absurd\.registerTask\(\)/),
      );
      assert.equal(harness.model.requests.length, requests, 'no model request was sent');
      assert.equal(executions, 0);
      await assertNothingStoredChanged(harness.database, stored);
    });
  }

  test('a durable model outside a task rejects with NotInTaskError and sends no request', async () => {
    const stored = await storedState(harness.database);
    const requests = harness.model.requests.length;
    await assert.rejects(
      generateText({ model: durableModel(model(), { name: 'writer' }), prompt: 'hello' }),
      clearError(NotInTaskError, /Durable model "writer"/, /outside an Absurd task/),
    );
    assert.equal(harness.model.requests.length, requests);
    await assertNothingStoredChanged(harness.database, stored);
  });

  test('a durable tool outside a task does not run: the call fails with NotInTaskError', async () => {
    const stored = await storedState(harness.database);
    executions = 0;
    const result = await generateText({ model: model(), tools: durableTools(tools(), { name: 'writer' }), prompt: 'hello' });
    const failure = result.steps[0]?.content.find((part) => part.type === 'tool-error');
    assert.ok(failure && failure.type === 'tool-error', 'the tool call failed');
    clearError(NotInTaskError, /Durable tool "writer"/, /outside an Absurd task/)(failure.error);
    assert.equal(executions, 0);
    await assertNothingStoredChanged(harness.database, stored);
  });
});
