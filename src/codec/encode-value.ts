// Turns any storable value into JSON that Postgres jsonb keeps losslessly. Plain JSON passes
// through untouched: containers are copied only when something inside them needed a tag, so a
// typical model response costs one walk and almost no allocation.
import { Buffer } from 'node:buffer';
import { setOwn } from './set-own.ts';
import { isStorableString, keySegment, tagKey, type TypedArrayKind, typedArrayConstructors } from './tagged-value.ts';

/** Why a value cannot be stored, and where; thrown internally and turned into a CheckpointCodecError. */
export class EncodeFailure {
  readonly what: string;
  readonly fix: string;
  /** Path segments collected innermost first while the failure unwinds. */
  readonly segments: string[] = [];

  constructor(what: string, fix: string) {
    this.what = what;
    this.fix = fix;
  }

  path(root: string): string {
    return root + this.segments.toReversed().join('');
  }
}

const plainDataFix =
  'Return plain data instead: strings, numbers, booleans, null, arrays, plain objects, Date, URL, Uint8Array, Map, Set or Error.';

const undefinedTag = Object.freeze({ [tagKey]: 'undefined' });

/** Encodes `value` into JSON-safe data; throws EncodeFailure for values that cannot be restored. */
export function encodeValue(value: unknown, ancestors: object[]): unknown {
  switch (typeof value) {
    case 'string':
      return isStorableString(value) ? value : encodeString(value);
    case 'number':
      // Finite and not -0: JSON carries it as is.
      return value - value === 0 && (value !== 0 || 1 / value > 0) ? value : encodeNumber(value);
    case 'boolean':
      return value;
    case 'undefined':
      return undefinedTag;
    case 'bigint':
      return { [tagKey]: 'bigint', v: value.toString() };
    case 'object':
      return value === null ? null : encodeObject(value, ancestors);
    case 'function':
      throw new EncodeFailure(
        `a function${value.name ? ` (${value.name})` : ''}`,
        `Functions cannot be stored and restored. ${plainDataFix}`,
      );
    case 'symbol':
      throw new EncodeFailure(`a symbol (${String(value)})`, `Symbols cannot be stored. Use a string. ${plainDataFix}`);
  }
}

function encodeString(value: string) {
  return { [tagKey]: 'string', utf16: Buffer.from(value, 'utf16le').toString('base64') };
}

function encodeNumber(value: number) {
  return { [tagKey]: 'number', v: Number.isNaN(value) ? 'NaN' : value === 0 ? '-0' : value > 0 ? 'Infinity' : '-Infinity' };
}

function encodeObject(value: object, ancestors: object[]): unknown {
  if (Array.isArray(value)) return encodeArray(value, ancestors);
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) return encodePlainObject(value as Record<string, unknown>, ancestors);
  if (value instanceof Date) {
    const time = value.getTime();
    return { [tagKey]: 'date', v: Number.isNaN(time) ? null : value.toISOString() };
  }
  if (value instanceof Uint8Array && (prototype === Uint8Array.prototype || Buffer.isBuffer(value))) {
    return { [tagKey]: Buffer.isBuffer(value) ? 'buffer' : 'bytes', v: base64(value) };
  }
  if (ArrayBuffer.isView(value)) return encodeView(value);
  if (value instanceof ArrayBuffer) return { [tagKey]: 'array-buffer', v: Buffer.from(value).toString('base64') };
  if (value instanceof URL) return { [tagKey]: 'url', v: value.href };
  if (value instanceof Error) return encodeError(value, ancestors);
  if (value instanceof Map) return encodeMap(value, ancestors);
  if (value instanceof Set) return encodeSet(value, ancestors);
  if (value instanceof RegExp) return { [tagKey]: 'regexp', source: encodeValue(value.source, ancestors), flags: value.flags };
  throw unsupportedObject(value);
}

function encodeArray(array: unknown[], ancestors: object[]): unknown[] {
  enter(array, ancestors);
  let copy: unknown[] | undefined;
  let index = 0;
  try {
    for (; index < array.length; index++) {
      const item = array[index];
      const encoded = encodeValue(item, ancestors);
      if (copy !== undefined) copy[index] = encoded;
      else if (encoded !== item) {
        copy = array.slice(0, index);
        copy[index] = encoded;
      }
    }
  } catch (failure) {
    throw withSegment(failure, `[${index}]`);
  }
  ancestors.pop();
  return copy ?? array;
}

function encodePlainObject(object: Record<string, unknown>, ancestors: object[]): unknown {
  enter(object, ancestors);
  const keys = Object.keys(object);
  let copy: Record<string, unknown> | undefined;
  let needsEntries = false;
  let key = '';
  try {
    for (let index = 0; index < keys.length; index++) {
      key = keys[index]!;
      if (key === tagKey || !isStorableString(key)) needsEntries = true;
      const item = object[key];
      const encoded = encodeValue(item, ancestors);
      if (copy !== undefined) setOwn(copy, key, encoded);
      else if (encoded !== item) {
        copy = {};
        for (let earlier = 0; earlier < index; earlier++) setOwn(copy, keys[earlier]!, object[keys[earlier]!]);
        setOwn(copy, key, encoded);
      }
    }
  } catch (failure) {
    throw withSegment(failure, keySegment(key));
  }
  ancestors.pop();
  const encoded = copy ?? object;
  if (!needsEntries) return encoded;
  // A key jsonb cannot store, or one that looks like a tag: keep the object as a list of entries.
  return { [tagKey]: 'object', entries: keys.map((entryKey) => [encodeValue(entryKey, ancestors), encoded[entryKey]]) };
}

function encodeMap(map: Map<unknown, unknown>, ancestors: object[]) {
  enter(map, ancestors);
  const entries: unknown[] = [];
  let index = 0;
  try {
    for (const [key, item] of map) {
      entries.push([encodeValue(key, ancestors), encodeValue(item, ancestors)]);
      index++;
    }
  } catch (failure) {
    throw withSegment(failure, `<map entry ${index}>`);
  }
  ancestors.pop();
  return { [tagKey]: 'map', entries };
}

function encodeSet(set: Set<unknown>, ancestors: object[]) {
  enter(set, ancestors);
  const items: unknown[] = [];
  try {
    for (const item of set) items.push(encodeValue(item, ancestors));
  } catch (failure) {
    throw withSegment(failure, `<set item ${items.length}>`);
  }
  ancestors.pop();
  return { [tagKey]: 'set', items };
}

function encodeView(view: ArrayBufferView) {
  const kind = view.constructor.name;
  if (!Object.hasOwn(typedArrayConstructors, kind) || Object.getPrototypeOf(view) !== globalThis[kind as TypedArrayKind]?.prototype) {
    throw unsupportedObject(view);
  }
  return { [tagKey]: 'typed-array', kind, v: base64(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)) };
}

/**
 * Errors are diagnostics: a property that cannot be stored (a socket, a request object) is left out
 * rather than failing the checkpoint. Both the live and the replayed run see the decoded error, so
 * they agree on what was kept.
 */
function encodeError(error: Error, ancestors: object[]): unknown {
  enter(error, ancestors);
  const encoded: Record<string, unknown> = {
    [tagKey]: 'error',
    name: encodeValue(String(error.name), ancestors),
    message: encodeValue(String(error.message), ancestors),
  };
  if (typeof error.stack === 'string') encoded.stack = encodeValue(error.stack, ancestors);
  const descriptor = Object.getOwnPropertyDescriptor(error, 'cause');
  if (descriptor && !descriptor.enumerable && 'value' in descriptor) encoded.cause = tryEncode(descriptor.value, ancestors);
  if (error instanceof AggregateError && Array.isArray(error.errors)) {
    encoded.errors = error.errors.map((item) => tryEncode(item, ancestors));
  }
  const properties: [unknown, unknown][] = [];
  for (const key of Object.keys(error)) {
    if (key === 'name' || key === 'message' || key === 'stack') continue;
    const value = tryEncode((error as unknown as Record<string, unknown>)[key], ancestors);
    if (value !== omitted) properties.push([encodeValue(key, ancestors), value]);
  }
  if (properties.length > 0) encoded.properties = properties;
  // Registered symbols are how error classes recognise their own instances (`APICallError.isInstance`).
  const markers: [unknown, unknown][] = [];
  for (const symbol of Object.getOwnPropertySymbols(error)) {
    const key = Symbol.keyFor(symbol);
    const value = (error as unknown as Record<symbol, unknown>)[symbol];
    if (key !== undefined && (value === null || typeof value !== 'object') && typeof value !== 'function') {
      const storable = tryEncode(value, ancestors);
      if (storable !== omitted) markers.push([encodeValue(key, ancestors) as string, storable]);
    }
  }
  if (markers.length > 0) encoded.symbols = markers;
  if (encoded.cause === omitted) delete encoded.cause;
  if (Array.isArray(encoded.errors)) encoded.errors = encoded.errors.filter((item) => item !== omitted);
  ancestors.pop();
  return encoded;
}

const omitted = Symbol('omitted');

function tryEncode(value: unknown, ancestors: object[]): unknown {
  const depth = ancestors.length;
  try {
    return encodeValue(value, ancestors);
  } catch (failure) {
    if (!(failure instanceof EncodeFailure)) throw failure;
    ancestors.length = depth;
    return omitted;
  }
}

function enter(value: object, ancestors: object[]): void {
  const index = ancestors.indexOf(value);
  if (index !== -1) {
    throw new EncodeFailure(
      'a circular reference',
      'Checkpoints store trees: remove the back-reference, or replace it with an id that points to the object.',
    );
  }
  ancestors.push(value);
}

function withSegment(failure: unknown, segment: string): unknown {
  if (failure instanceof EncodeFailure) failure.segments.push(segment);
  return failure;
}

function unsupportedObject(value: object): EncodeFailure {
  if (value instanceof Promise || typeof (value as { then?: unknown }).then === 'function') {
    return new EncodeFailure('a Promise', 'Await it and return its result instead of the promise.');
  }
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    return new EncodeFailure(
      `a ${value.constructor.name}`,
      'Its contents cannot be read, so it cannot be stored. Use a Map, a Set or a plain object.',
    );
  }
  if (value instanceof ReadableStream || Symbol.asyncIterator in value) {
    return new EncodeFailure('a stream', 'Read it to the end and return the collected data.');
  }
  const className = value.constructor?.name || 'an unknown class';
  return new EncodeFailure(
    `an instance of ${className}`,
    `Class instances lose their class and methods when stored. Convert it to a plain object (for example with its toJSON() method or an object literal). ${plainDataFix}`,
  );
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
