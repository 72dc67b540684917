// What makes two model calls "the same call" for replay: the request the model receives, minus
// transport details (abort signal, headers that carry versions and credentials, raw-chunk flag).
//
// The prompt grows with every step, and hashing all of it on every call would cost time proportional
// to the square of the run's length. Each message is fingerprinted on its own and the call's
// fingerprint covers those digests; a message equal to the one at the same place in the run's previous
// call reuses its digest. The result depends only on the request, never on what was cached.
import { Buffer } from 'node:buffer';
import type { LanguageModelV4, LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { fingerprint } from '../codec/fingerprint.ts';

/** The messages of a run's previous model call and their digests. */
export class PromptDigests {
  private messages: readonly unknown[] = [];
  private digests: string[] = [];

  digest(prompt: readonly unknown[]): string[] {
    const digests = prompt.map((message, index) =>
      index < this.messages.length && sameValue(message, this.messages[index]) ? this.digests[index]! : fingerprint(message),
    );
    this.messages = prompt;
    this.digests = digests;
    return digests;
  }
}

/** Digest of the prompt, tool definitions, tool choice, model and call settings of one model call. */
export function modelCallFingerprint(
  params: LanguageModelV4CallOptions,
  model: Pick<LanguageModelV4, 'provider' | 'modelId'>,
  digests: PromptDigests = new PromptDigests(),
): string {
  const {
    abortSignal: _abortSignal,
    headers: _headers,
    includeRawChunks: _includeRawChunks,
    prompt,
    ...request
  } = params;
  return fingerprint({ provider: model.provider, modelId: model.modelId, ...request, prompt: digests.digest(prompt) });
}

/** Structural equality that is cheap when the SDK hands the same strings and objects back. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let index = 0; index < a.length; index++) if (!sameValue(a[index], other[index])) return false;
    return true;
  }
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array) === 0;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof URL) return a.href === (b as URL).href;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}
