import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigurationError } from '../errors/configuration-error.ts';
import {
  agentRunScope,
  mcpToolListingStepName,
  modelCallStepName,
  standaloneScope,
  toolCallStepName,
  validateScopeName,
} from './step-names.ts';

test('checkpoint names nest run, model call and tool call', () => {
  const run = agentRunScope('analyst', 2);
  assert.equal(run, 'analyst:2');
  assert.equal(modelCallStepName(run, 3), 'analyst:2/model:3');
  assert.equal(toolCallStepName(run, 3, 'weather', 'call_7'), 'analyst:2/model:3/tool:weather:call_7');
  assert.equal(toolCallStepName(run, 0, 'weather', 'call_7'), 'analyst:2/model:0/tool:weather:call_7');
});

test('runs and standalone scopes started inside a tool call nest under it', () => {
  const parent = toolCallStepName('lead:1', 1, 'research', 'call-1');
  assert.equal(agentRunScope('researcher', 1, parent), 'lead:1/model:1/tool:research:call-1/researcher:1');
  assert.equal(standaloneScope('writer', parent), 'lead:1/model:1/tool:research:call-1/writer');
  assert.equal(standaloneScope('writer'), 'writer');
  assert.equal(mcpToolListingStepName('github'), 'mcp:github/tools');
  assert.equal(mcpToolListingStepName('github', 'lead:1'), 'lead:1/mcp:github/tools');
});

test('names that would break checkpoint names are refused with a fix', () => {
  assert.equal(validateScopeName('analyst', 'name', 'fix'), 'analyst');
  for (const bad of [undefined, '', '  ', 'a/b', 'a#2', 42]) {
    assert.throws(() => validateScopeName(bad, 'name', 'Pass { name }.'), ConfigurationError, String(bad));
  }
  assert.throws(() => validateScopeName(undefined, 'name', 'Pass { name }.'), /Pass \{ name \}\./);
});
