import { InvalidPayloadError } from '../errors/invalid-payload-error.ts';

export const defaultMaxPayloadBytes = 8 * 1024 * 1024;

// An escaped NUL in JSON text that is not itself part of an escaped backslash.
const escapedNul = /(?:^|[^\\])(?:\\\\)*\\u0000/;

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
