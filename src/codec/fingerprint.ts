// A digest that two processes compute identically for equal values, used to tell whether the call
// being replayed is the call that was recorded.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';

/**
 * Stable digest of a value across processes and runs: canonical JSON (sorted keys, undefined dropped,
 * Uint8Array → base64, URL → href, Date → ISO) hashed with sha-256, hex, first 16 chars.
 */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/** JSON text with sorted keys in which equal values always produce equal text. */
export function canonicalJson(value: unknown): string {
  return write(value, []) ?? 'null';
}

/** Returns undefined for values JSON leaves out (undefined, functions, symbols). */
function write(value: unknown, ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object':
      return value === null ? 'null' : writeObject(value, ancestors);
    default:
      return undefined;
  }
}

function writeObject(value: object, ancestors: object[]): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : JSON.stringify(value.toISOString());
  if (value instanceof URL) return JSON.stringify(value.href);
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
  if (ancestors.includes(value)) return '"[circular]"';
  ancestors.push(value);
  let text: string;
  if (Array.isArray(value)) {
    text = `[${value.map((item) => write(item, ancestors) ?? 'null').join(',')}]`;
  } else if (value instanceof Map) {
    text = writeObject(Object.fromEntries([...value].map(([key, item]) => [String(key), item])), ancestors);
  } else if (value instanceof Set) {
    text = writeObject([...value], ancestors);
  } else if (value instanceof Error) {
    text = writeObject({ ...value, name: value.name, message: value.message }, ancestors);
  } else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    text = write((value as { toJSON(): unknown }).toJSON(), ancestors) ?? 'null';
  } else {
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = write(record[key], ancestors);
      if (item !== undefined) members.push(`${JSON.stringify(key)}:${item}`);
    }
    text = `{${members.join(',')}}`;
  }
  ancestors.pop();
  return text;
}
