import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LanguageModelV4CallOptions, LanguageModelV4Prompt } from '@ai-sdk/provider';
import { modelCallFingerprint, PromptDigests } from './model-call-fingerprint.ts';

const model = { provider: 'openai.chat', modelId: 'gpt-4o' };

function call(prompt: LanguageModelV4Prompt, extra: Partial<LanguageModelV4CallOptions> = {}): LanguageModelV4CallOptions {
  return { prompt, temperature: 0.2, tools: [{ type: 'function', name: 'weather', inputSchema: { type: 'object' } }], ...extra };
}

const system = { role: 'system' as const, content: 'Be brief.' };
const user = (text: string) => ({ role: 'user' as const, content: [{ type: 'text' as const, text }] });

test('the fingerprint depends on the request only, not on what the digest cache holds', () => {
  const growing = new PromptDigests();
  const first = modelCallFingerprint(call([system, user('a')]), model, growing);
  const second = modelCallFingerprint(call([system, user('a'), user('b')]), model, growing);
  // Fresh caches (another process replaying the run) agree.
  assert.equal(modelCallFingerprint(call([system, user('a')]), model), first);
  assert.equal(modelCallFingerprint(call([system, user('a'), user('b')]), model), second);
  // Copies of the same messages, as a replay builds them, agree with the originals.
  assert.equal(modelCallFingerprint(call(structuredClone([system, user('a'), user('b')])), model, growing), second);
});

test('anything the model receives changes the fingerprint; transport details do not', () => {
  const base = modelCallFingerprint(call([system, user('a')]), model);
  const changed = [
    modelCallFingerprint(call([system, user('A')]), model),
    modelCallFingerprint(call([system, user('a')], { temperature: 0.3 }), model),
    modelCallFingerprint(call([system, user('a')], { tools: [] }), model),
    modelCallFingerprint(call([system, user('a')], { toolChoice: { type: 'required' } }), model),
    modelCallFingerprint(call([system, user('a')]), { ...model, modelId: 'gpt-4o-mini' }),
    modelCallFingerprint(call([system, user('a')]), { ...model, provider: 'azure' }),
  ];
  assert.equal(new Set([base, ...changed]).size, changed.length + 1);
  const transport = modelCallFingerprint(
    call([system, user('a')], { headers: { 'user-agent': 'x' }, abortSignal: new AbortController().signal, includeRawChunks: true }),
    model,
  );
  assert.equal(transport, base);
});

test('a changed message in the middle of a cached prompt is noticed', () => {
  const digests = new PromptDigests();
  const before = modelCallFingerprint(call([system, user('a'), user('b')]), model, digests);
  const after = modelCallFingerprint(call([system, user('x'), user('b')]), model, digests);
  assert.notEqual(after, before);
  assert.equal(after, modelCallFingerprint(call([system, user('x'), user('b')]), model));
});
