// Every checkpoint this library writes goes through here: the value is tagged into JSON that jsonb
// stores losslessly and wrapped in an envelope that names the codec version that wrote it.
import { Buffer } from 'node:buffer';
import { CheckpointCodecError } from '../errors/checkpoint-codec-error.ts';
import { CheckpointSizeError } from '../errors/checkpoint-size-error.ts';
import { DecodeFailure, decodeValue } from './decode-value.ts';
import { EncodeFailure, encodeValue } from './encode-value.ts';
import type { JsonValue } from './tagged-value.ts';

export type { JsonValue } from './tagged-value.ts';

/** The version written into every envelope. Raise it when the encoding changes incompatibly. */
export const checkpointCodecVersion = 1;

/** Default upper bound on one checkpoint's JSON text (8 MiB). */
export const defaultMaxCheckpointBytes = 8 * 1024 * 1024;

export interface EncodeCheckpointOptions {
  /** The Absurd step the value is stored under (used in error messages). */
  stepName: string;
  /** Who produced the value, for error messages: `tool "weather"`, `model "gpt-4o"`. */
  subject?: string;
  /** Largest JSON text accepted, in bytes; defaults to `defaultMaxCheckpointBytes`. */
  maxBytes?: number;
}

/**
 * Encodes any value the AI SDK or a tool produces into JSON that Postgres jsonb stores losslessly, inside a
 * versioned envelope. Throws CheckpointCodecError (with `path` like "output.items[2].callback" and a message
 * naming `subject`) for functions, symbols, circular references and class instances it cannot represent, and
 * CheckpointSizeError over `maxBytes`.
 */
export function encodeCheckpoint(value: unknown, options: EncodeCheckpointOptions): JsonValue {
  let encoded: unknown;
  try {
    encoded = encodeValue(value, []);
  } catch (failure) {
    if (!(failure instanceof EncodeFailure)) throw failure;
    const path = failure.path('output');
    const subject = options.subject ? capitalize(options.subject) : `The value of checkpoint "${options.stepName}"`;
    const verb = options.subject ? 'returned a value that cannot be checkpointed' : 'cannot be checkpointed';
    throw new CheckpointCodecError({
      message: `${subject} ${verb} at ${path}: ${failure.what}. ${failure.fix}`,
      path,
      stepName: options.stepName,
    });
  }
  const envelope = { codec: checkpointCodecVersion, value: encoded } as JsonValue;
  assertSize(envelope, options);
  return envelope;
}

export interface DecodeCheckpointOptions {
  /** The Absurd step the value was read from (used in error messages). */
  stepName: string;
}

/** Inverse of encodeCheckpoint. Throws CheckpointCodecError for an envelope of another codec version or a malformed one. */
export function decodeCheckpoint(stored: unknown, options: DecodeCheckpointOptions): unknown {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored) || !('codec' in stored)) {
    throw new CheckpointCodecError({
      message:
        `Checkpoint "${options.stepName}" is not a checkpoint this library wrote (no codec envelope). ` +
        `Another program may have written to this step name: give your own ctx.step() calls names that do not collide with the agent's.`,
      path: '',
      stepName: options.stepName,
    });
  }
  const version = (stored as { codec: unknown }).codec;
  if (version !== checkpointCodecVersion) {
    const newer = typeof version === 'number' && version > checkpointCodecVersion;
    throw new CheckpointCodecError({
      message:
        `Checkpoint "${options.stepName}" was written with checkpoint codec version ${JSON.stringify(version)}, ` +
        `but this release of ai-sdk-absurd reads version ${checkpointCodecVersion}. ` +
        (newer
          ? 'A newer release wrote it: run the same ai-sdk-absurd version on every worker of this queue (upgrade this one).'
          : 'Finish or cancel tasks started by the older release before upgrading, or run the release that wrote them.'),
      path: '',
      stepName: options.stepName,
    });
  }
  try {
    return decodeValue((stored as { value?: unknown }).value);
  } catch (failure) {
    const problem = failure instanceof DecodeFailure ? failure.problem : String(failure);
    const path = failure instanceof DecodeFailure ? failure.path('output') : 'output';
    throw new CheckpointCodecError({
      message:
        `Checkpoint "${options.stepName}" is malformed at ${path}: ${problem}. ` +
        `The stored row was changed by something other than this library; restore it or retry the task from scratch.`,
      path,
      stepName: options.stepName,
      cause: failure instanceof DecodeFailure ? undefined : failure,
    });
  }
}

function assertSize(envelope: JsonValue, options: EncodeCheckpointOptions): void {
  const limit = options.maxBytes ?? defaultMaxCheckpointBytes;
  const json = JSON.stringify(envelope);
  // A UTF-16 code unit takes at most 3 bytes in UTF-8, so short texts skip the exact count.
  if (json.length * 3 <= limit) return;
  const size = Buffer.byteLength(json, 'utf8');
  if (size <= limit) return;
  throw new CheckpointSizeError({
    stepName: options.stepName,
    size,
    limit,
    message:
      `${options.subject ? `${capitalize(options.subject)} produced a checkpoint` : 'Checkpoint'} "${options.stepName}" of ${size} bytes, ` +
      `over the limit of ${limit} bytes. Return a smaller value (store large data elsewhere and checkpoint a reference), ` +
      `or raise maxCheckpointBytes.`,
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
