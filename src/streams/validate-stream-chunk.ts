import { InvalidPayloadError } from '../errors/invalid-payload-error.ts';

/** Largest single stream chunk accepted, in bytes of JSON. */
export const defaultMaxChunkBytes = 1024 * 1024;

/**
 * Refuses a chunk Postgres could not store as given, before anything of its batch is written:
 * not an object with a `type`, not JSON-serializable, holding NUL characters, or too large.
 */
export function validateStreamChunk(chunk: unknown, maxBytes = defaultMaxChunkBytes): string {
  const subject = 'Stream chunk';
  if (chunk == null || typeof chunk !== 'object' || typeof (chunk as { type?: unknown }).type !== 'string') {
    throw new InvalidPayloadError({ subject, message: 'Stream chunk must be an object with a string "type".' });
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(chunk);
  } catch (cause) {
    throw new InvalidPayloadError({ subject, message: 'Stream chunk is not JSON-serializable.', cause });
  }
  if (json === undefined) throw new InvalidPayloadError({ subject, message: 'Stream chunk is not JSON-serializable.' });
  if (json.includes('\\u0000')) {
    throw new InvalidPayloadError({ subject, message: 'Stream chunk contains NUL characters, which Postgres cannot store.' });
  }
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most chunks need no count.
  if (json.length * 3 <= maxBytes) return json;
  const size = Buffer.byteLength(json);
  if (size > maxBytes) {
    throw new InvalidPayloadError({
      subject,
      message: `Stream chunk is ${size} bytes of JSON, over the ${maxBytes}-byte limit.`,
      size,
      limit: maxBytes,
    });
  }
  return json;
}
