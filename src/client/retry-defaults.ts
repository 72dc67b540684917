// How long a failed attempt waits before the next one when the spawn does not say. Absurd retries at once
// when a task has no strategy; a failure worth retrying (a provider outage, a rate limit, a crashed
// worker) is better tried again after a growing pause.
import type { RetryStrategy } from 'absurd-sdk';
import { ConfigurationError } from '../errors/configuration-error.ts';

/**
 * The retry strategy of tasks spawned without one: 2 s after the first failed attempt, then 4, 8, 16 s…,
 * at most 5 minutes. Change it per client (`new Absurd({ defaultRetryStrategy })`), per task
 * (`registerTask({ name, defaultRetryStrategy })`) or per spawn (`spawn(name, params, { retryStrategy })`).
 */
export const defaultRetryStrategy: RetryStrategy = Object.freeze({ kind: 'exponential', baseSeconds: 2, factor: 2, maxSeconds: 300 });

/** Rejects a strategy the schema would refuse at spawn time, when the client is built instead. */
export function validateRetryStrategy(strategy: unknown, setting: string): RetryStrategy {
  const value = strategy as Partial<RetryStrategy> | null;
  const numbersValid = ['baseSeconds', 'factor', 'maxSeconds'].every((key) => {
    const number = (value as Record<string, unknown> | null)?.[key];
    return number === undefined || (typeof number === 'number' && Number.isFinite(number) && number >= 0);
  });
  if (value === null || typeof value !== 'object' || !['none', 'fixed', 'exponential'].includes(value.kind as string) || !numbersValid) {
    throw new ConfigurationError({
      setting,
      message:
        `Invalid ${setting} ${JSON.stringify(strategy) ?? String(strategy)}: a retry strategy is { kind: 'none' } (retry at once), ` +
        "{ kind: 'fixed', baseSeconds } or { kind: 'exponential', baseSeconds, factor, maxSeconds }, with numbers of seconds >= 0.",
    });
  }
  return value as RetryStrategy;
}
