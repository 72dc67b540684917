import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePayload, describeCheckpoint, encodePayload } from './checkpoint-format.ts';

test('payloads keep object key order, which jsonb would not', () => {
  const value = { zebra: 1, apple: { longer: 2, b: 3 }, at: new Date('2025-01-01T00:00:00.000Z') };
  const payload = encodePayload(value, { stepName: 's' });
  assert.equal(typeof payload, 'string');
  const decoded = decodePayload(payload, 's') as typeof value;
  assert.deepEqual(decoded, value);
  assert.deepEqual(Object.keys(decoded), ['zebra', 'apple', 'at']);
  assert.deepEqual(Object.keys(decoded.apple), ['longer', 'b']);
  assert.throws(() => decodePayload('{not json', 's'), /Checkpoint "s" is malformed/);
});

test('a model call is described with its model, usage, finish reason and duration', () => {
  const state = {
    kind: 'model-call',
    call: 'stream',
    fingerprint: 'abc',
    provider: 'openai.chat',
    modelId: 'gpt-4o',
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 812,
    attempts: 2,
    finishReason: 'tool-calls',
    usage: { inputTokens: 120, outputTokens: 40 },
    response: encodePayload({ parts: [] }, { stepName: 'a:1/model:1' }),
  };
  assert.deepEqual(describeCheckpoint('a:1/model:1', state), {
    type: 'model-call',
    name: 'a:1/model:1',
    call: 'stream',
    provider: 'openai.chat',
    modelId: 'gpt-4o',
    finishReason: 'tool-calls',
    usage: { inputTokens: 120, outputTokens: 40 },
    attempts: 2,
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 812,
  });
});

test('a tool call is described with its outcome, and a failed one with its error', () => {
  const base = { kind: 'tool-call', toolName: 'weather', toolCallId: 'call-1', inputDigest: 'x', startedAt: 't', durationMs: 5 };
  assert.deepEqual(describeCheckpoint('n', { ...base, outcome: 'ok', value: encodePayload(72, { stepName: 'n' }) }), {
    type: 'tool-call',
    name: 'n',
    toolName: 'weather',
    toolCallId: 'call-1',
    outcome: 'ok',
    startedAt: 't',
    durationMs: 5,
  });
  const failed = describeCheckpoint('n', { ...base, outcome: 'error', value: encodePayload(new TypeError('offline'), { stepName: 'n' }) });
  assert.equal(failed.type === 'tool-call' && failed.error, 'TypeError: offline');
});

test('MCP tool listings and anything else', () => {
  assert.deepEqual(describeCheckpoint('mcp:github/tools', { kind: 'mcp-tool-listing', clientName: 'github', toolCount: 3, startedAt: 't', durationMs: 9 }), {
    type: 'mcp-tool-listing',
    name: 'mcp:github/tools',
    clientName: 'github',
    toolCount: 3,
    startedAt: 't',
    durationMs: 9,
  });
  assert.equal(describeCheckpoint('lead:1/mcp:docs/tools', { codec: 1, value: [] }).type, 'mcp-tool-listing');
  assert.deepEqual(describeCheckpoint('my-step', { some: 'value' }), { type: 'other', name: 'my-step' });
  assert.deepEqual(describeCheckpoint('my-step', null), { type: 'other', name: 'my-step' });
});

test('approval checkpoints are described by phase, with the decision that stands', () => {
  assert.deepEqual(describeCheckpoint('support:1/approval:call-9/request', { toolName: 'refund', inputDigest: 'd' }), {
    type: 'approval',
    name: 'support:1/approval:call-9/request',
    toolCallId: 'call-9',
    phase: 'requested',
    toolName: 'refund',
  });
  const decision = { approved: false, reason: 'timed out', inputDigest: 'd', decidedBy: 'timeout', decidedAt: '2026-01-01T00:00:00.000Z' };
  assert.deepEqual(describeCheckpoint('support:1/approval:call-9/decision', decision), {
    type: 'approval',
    name: 'support:1/approval:call-9/decision',
    toolCallId: 'call-9',
    phase: 'decided',
    approved: false,
    reason: 'timed out',
    decidedBy: 'timeout',
    decidedAt: '2026-01-01T00:00:00.000Z',
  });
  assert.equal((describeCheckpoint('support:1/approval:call-9/event', decision) as { phase: string }).phase, 'delivered');
});
