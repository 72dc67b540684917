// The inverse of encodeValue. Containers without tags inside are returned as they are, so decoding
// plain JSON costs one walk.
import { Buffer } from 'node:buffer';
import { setOwn } from './set-own.ts';
import { keySegment, tagKey, typedArrayConstructors } from './tagged-value.ts';

/** A tagged value that does not have the shape this codec writes; turned into a CheckpointCodecError. */
export class DecodeFailure {
  readonly problem: string;
  readonly segments: string[] = [];

  constructor(problem: string) {
    this.problem = problem;
  }

  path(root: string): string {
    return root + this.segments.toReversed().join('');
  }
}

export function decodeValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return decodeArray(value);
  const tag = (value as Record<string, unknown>)[tagKey];
  if (tag !== undefined) return decodeTagged(value as Record<string, unknown>, tag);
  return decodeObject(value as Record<string, unknown>);
}

function decodeArray(array: unknown[]): unknown[] {
  let copy: unknown[] | undefined;
  let index = 0;
  try {
    for (; index < array.length; index++) {
      const item = array[index];
      const decoded = decodeValue(item);
      if (copy !== undefined) copy[index] = decoded;
      else if (decoded !== item) {
        copy = array.slice(0, index);
        copy[index] = decoded;
      }
    }
  } catch (failure) {
    throw withSegment(failure, `[${index}]`);
  }
  return copy ?? array;
}

function decodeObject(object: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(object);
  let copy: Record<string, unknown> | undefined;
  let key = '';
  try {
    for (let index = 0; index < keys.length; index++) {
      key = keys[index]!;
      const item = object[key];
      const decoded = decodeValue(item);
      if (copy !== undefined) setOwn(copy, key, decoded);
      else if (decoded !== item) {
        copy = {};
        for (let earlier = 0; earlier < index; earlier++) setOwn(copy, keys[earlier]!, object[keys[earlier]!]);
        setOwn(copy, key, decoded);
      }
    }
  } catch (failure) {
    throw withSegment(failure, keySegment(key));
  }
  return copy ?? object;
}

function decodeTagged(tagged: Record<string, unknown>, tag: unknown): unknown {
  switch (tag) {
    case 'undefined':
      return undefined;
    case 'number':
      return decodeNumber(tagged.v);
    case 'bigint':
      return BigInt(text(tagged.v, 'bigint'));
    case 'string':
      return Buffer.from(text(tagged.utf16, 'string'), 'base64').toString('utf16le');
    case 'date':
      return new Date(tagged.v === null ? Number.NaN : text(tagged.v, 'date'));
    case 'url':
      return new URL(text(tagged.v, 'url'));
    case 'regexp':
      return new RegExp(decodedText(tagged.source, 'regexp'), text(tagged.flags, 'regexp'));
    case 'bytes':
      return copyBytes(text(tagged.v, 'bytes'));
    case 'buffer':
      return Buffer.from(text(tagged.v, 'buffer'), 'base64');
    case 'array-buffer':
      return copyBytes(text(tagged.v, 'array-buffer')).buffer;
    case 'typed-array':
      return decodeTypedArray(tagged);
    case 'map':
      return new Map(list(tagged.entries, 'map').map((entry) => pair(entry, 'map')).map(([key, item]) => [decodeValue(key), decodeValue(item)]));
    case 'set':
      return new Set(list(tagged.items, 'set').map(decodeValue));
    case 'error':
      return decodeError(tagged);
    case 'object':
      return decodeEntries(tagged);
    default:
      throw new DecodeFailure(`unknown tag ${JSON.stringify(tag)}`);
  }
}

function decodeNumber(value: unknown): number {
  switch (value) {
    case 'NaN':
      return Number.NaN;
    case 'Infinity':
      return Number.POSITIVE_INFINITY;
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
    case '-0':
      return -0;
    default:
      throw new DecodeFailure(`invalid number ${JSON.stringify(value)}`);
  }
}

function decodeTypedArray(tagged: Record<string, unknown>): ArrayBufferView {
  const kind = text(tagged.kind, 'typed-array');
  if (!Object.hasOwn(typedArrayConstructors, kind)) throw new DecodeFailure(`unknown typed array ${JSON.stringify(kind)}`);
  const constructor = typedArrayConstructors[kind as keyof typeof typedArrayConstructors] as new (buffer: ArrayBuffer) => ArrayBufferView;
  return new constructor(copyBytes(text(tagged.v, 'typed-array')).buffer);
}

// Error classes the platform defines; any other name is restored as an Error carrying that name.
const errorConstructors: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function decodeError(tagged: Record<string, unknown>): Error {
  const name = decodedText(tagged.name, 'error');
  const message = decodedText(tagged.message, 'error');
  const error =
    name === 'AggregateError'
      ? new AggregateError(list(tagged.errors ?? [], 'error').map(decodeValue), message)
      : new (errorConstructors[name] ?? Error)(message);
  if (error.name !== name) error.name = name;
  if (tagged.stack !== undefined) hidden(error, 'stack', decodedText(tagged.stack, 'error'));
  else delete error.stack;
  if ('cause' in tagged) hidden(error, 'cause', decodeValue(tagged.cause));
  const target = error as unknown as Record<string | symbol, unknown>;
  for (const entry of list(tagged.properties ?? [], 'error')) {
    const [key, value] = pair(entry, 'error');
    setOwn(target, decodeValue(key) as string, decodeValue(value));
  }
  for (const entry of list(tagged.symbols ?? [], 'error')) {
    const [key, value] = pair(entry, 'error');
    target[Symbol.for(decodedText(key, 'error'))] = decodeValue(value);
  }
  return error;
}

function decodeEntries(tagged: Record<string, unknown>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const entry of list(tagged.entries, 'object')) {
    const [key, value] = pair(entry, 'object');
    const decodedKey = decodeValue(key);
    if (typeof decodedKey !== 'string') throw new DecodeFailure('an object key that is not a string');
    try {
      setOwn(object, decodedKey, decodeValue(value));
    } catch (failure) {
      throw withSegment(failure, keySegment(decodedKey));
    }
  }
  return object;
}

function copyBytes(base64: string): Uint8Array<ArrayBuffer> {
  const decoded = Buffer.from(base64, 'base64');
  // Buffer.from may share a pooled ArrayBuffer; callers get bytes that own their memory.
  const bytes = new Uint8Array(decoded.byteLength);
  bytes.set(decoded);
  return bytes;
}

function text(value: unknown, tag: string): string {
  if (typeof value !== 'string') throw new DecodeFailure(`a "${tag}" value without its text`);
  return value;
}

/** A string field that the encoder may have tagged (strings jsonb cannot store are). */
function decodedText(value: unknown, tag: string): string {
  return text(decodeValue(value), tag);
}

function list(value: unknown, tag: string): unknown[] {
  if (!Array.isArray(value)) throw new DecodeFailure(`a "${tag}" value without its list`);
  return value;
}

function pair(value: unknown, tag: string): [unknown, unknown] {
  if (!Array.isArray(value) || value.length !== 2) throw new DecodeFailure(`a "${tag}" entry that is not a [key, value] pair`);
  return value as [unknown, unknown];
}

function hidden(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });
}

function withSegment(failure: unknown, segment: string): unknown {
  if (failure instanceof DecodeFailure) failure.segments.push(segment);
  return failure;
}
