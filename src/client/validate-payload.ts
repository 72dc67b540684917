import { InvalidPayloadError } from '../errors/invalid-payload-error.ts';

export const defaultMaxPayloadBytes = 8 * 1024 * 1024;

// An escaped NUL in JSON text that is not itself part of an escaped backslash.
const escapedNul = /(?:^|[^\\])(?:\\\\)*\\u0000/;
// JSON.stringify escapes only lone surrogates; paired ones stay raw characters.
const escapedLoneSurrogate = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/i;

/**
 * Checks that a value will reach Postgres `jsonb` intact, before anything is written, so a bad
 * payload fails with a message that says what to change instead of a driver error mid-way.
 */
export function validatePayload(value: unknown, options: { subject: string; maxBytes?: number }): void {
  const limit = options.maxBytes ?? defaultMaxPayloadBytes;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidPayloadError({
      subject: options.subject,
      message:
        `${options.subject} cannot be stored: it is not JSON-serializable (${(error as Error).message}). ` +
        'Pass plain JSON data (no BigInt, no circular references).',
      cause: error,
    });
  }
  if (text === undefined) return;
  const nonFinite = findNonFinite(value);
  if (nonFinite) {
    throw new InvalidPayloadError({
      subject: options.subject,
      message:
        `${options.subject} contains ${nonFinite.value} at ${nonFinite.path}, which JSON cannot hold ` +
        '(it would be stored as null). Use null or a string such as "Infinity" instead.',
    });
  }
  if (escapedLoneSurrogate.test(text)) {
    throw new InvalidPayloadError({
      subject: options.subject,
      message:
        `${options.subject} contains a lone UTF-16 surrogate (half of a character pair), which Postgres cannot store. ` +
        'Fix the string (for example with String.prototype.toWellFormed()).',
    });
  }
  if (escapedNul.test(text)) {
    throw new InvalidPayloadError({
      subject: options.subject,
      message:
        `${options.subject} contains a NUL character (\\u0000), which Postgres jsonb cannot store. ` +
        'Remove it or encode the value (for example as base64) before passing it.',
    });
  }
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limit) {
    throw new InvalidPayloadError({
      subject: options.subject,
      size,
      limit,
      message:
        `${options.subject} is ${size} bytes of JSON, over the limit of ${limit} bytes. ` +
        'Store large data elsewhere and pass a reference, or raise maxPayloadBytes in the Absurd options.',
    });
  }
}

/** The first NaN or ±Infinity in a value, with its path; JSON.stringify would turn it into null. */
function findNonFinite(value: unknown, path = 'the top level', seen = new Set<object>()): { value: string; path: string } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { value: String(value), path };
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  const entries = Array.isArray(value) ? value.map((item, index) => [`[${index}]`, item] as const) : Object.entries(value).map(([key, item]) => [`.${key}`, item] as const);
  for (const [key, item] of entries) {
    const found = findNonFinite(item, path === 'the top level' ? key.replace(/^\./, '') : `${path}${key}`, seen);
    if (found) return found;
  }
  return undefined;
}
