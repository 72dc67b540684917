// The vocabulary shared by the encoder and the decoder. A value JSON cannot carry becomes a small
// object `{ "~t": <tag>, ... }`; a user object that happens to own the "~t" key is escaped as a
// tagged "object", so every "~t" key in a checkpoint is one the codec wrote.

export const tagKey = '~t';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type Tag =
  | 'undefined'
  | 'number'
  | 'bigint'
  | 'string'
  | 'date'
  | 'url'
  | 'regexp'
  | 'bytes'
  | 'buffer'
  | 'array-buffer'
  | 'typed-array'
  | 'map'
  | 'set'
  | 'error'
  | 'object';

/** Typed-array views the codec restores by constructor name (their bytes travel as base64). */
export const typedArrayConstructors = {
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
} as const;

export type TypedArrayKind = keyof typeof typedArrayConstructors;

/** Strings Postgres jsonb accepts as-is: no NUL character and no lone UTF-16 surrogate. */
export function isStorableString(value: string): boolean {
  return !value.includes('\u0000') && (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** `.key` for identifiers, `["key"]` otherwise: the notation of a property access in JavaScript. */
export function keySegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
