// Errors that cannot succeed when the task is tried again fail the task at once instead of using up its
// attempts: a closed list of this library's and the AI SDK's errors, and any error task code marks.
import { AiSdkAbsurdError } from '../errors/ai-sdk-absurd-error.ts';
import type { CurrentTask } from './current-task.ts';
import { queueTable } from '../db/queue-table.ts';

const permanentMarker = Symbol.for('ai-sdk-absurd.permanent-failure');

/** This library's errors that a retry repeats exactly: the code, the setup or the stored data must change. */
const permanentLibraryErrors = new Set([
  'AiSdkAbsurdReplayDivergenceError',
  'AiSdkAbsurdConfigurationError',
  'AiSdkAbsurdNotInTaskError',
  'AiSdkAbsurdInvalidPayloadError',
  'AiSdkAbsurdCheckpointCodecError',
  'AiSdkAbsurdCheckpointSizeError',
  'AiSdkAbsurdSchemaVersionError',
  'AiSdkAbsurdBudgetExceededError',
]);

/** The AI SDK's errors that no retry fixes: a missing key, a bad argument, an unknown model or feature. */
const permanentSdkErrors = new Set([
  'AI_LoadAPIKeyError',
  'AI_LoadSettingError',
  'AI_InvalidArgumentError',
  'AI_NoSuchModelError',
  'AI_NoSuchProviderError',
  'AI_UnsupportedFunctionalityError',
]);

/**
 * Marks `error` as permanent: thrown from a task handler (or a tool that ends the run), it fails the task
 * at once, without the attempts that remain. Returns the same error.
 *
 * @example
 * ```ts
 * if (!customer) throw markPermanent(new Error(`No customer ${params.customerId}`));
 * ```
 */
export function markPermanent<E>(error: E): E {
  if (error !== null && typeof error === 'object') Object.defineProperty(error, permanentMarker, { value: true });
  return error;
}

/**
 * Why `error` cannot succeed on another attempt, or undefined when a retry may help. The AI SDK's
 * `APICallError` counts as permanent when the SDK marked it not retryable (a 400, 401, 403 or 404).
 */
export function permanentFailureReason(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const record = error as { name?: unknown; isRetryable?: unknown; statusCode?: unknown };
  if ((error as Record<symbol, unknown>)[permanentMarker] === true) return 'marked permanent with markPermanent()';
  const name = typeof record.name === 'string' ? record.name : '';
  if (AiSdkAbsurdError.isInstance(error) && permanentLibraryErrors.has(name)) return `${name} repeats on every attempt`;
  if (permanentSdkErrors.has(name)) return `${name} repeats on every attempt`;
  if (name === 'AI_APICallError' && record.isRetryable === false) {
    return `the provider answered ${typeof record.statusCode === 'number' ? record.statusCode : 'with an error'} and the AI SDK marks it not retryable`;
  }
  return undefined;
}

/** Leaves the task no further attempt, so the failure being reported is its last. */
export async function endRetries(task: CurrentTask): Promise<void> {
  await task.absurd.database.query(
    `update ${queueTable('t', task.queueName)} set max_attempts = $2 where task_id = $1::uuid and (max_attempts is null or max_attempts > $2)`,
    [task.taskID, task.attempt],
  );
}
