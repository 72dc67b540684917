import { ConfigurationError } from '../errors/configuration-error.ts';

/**
 * A tool factory's option given in seconds: `fallback` when unset, otherwise a finite number >= 0. The tools that
 * suspend share it so they reject a bad bound with the same message, named after `factory` (e.g. `sleepTool`).
 */
export function secondsSetting(value: number | undefined, fallback: number, setting: string, factory: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigurationError({
      setting,
      message: `${factory}: ${setting} must be a finite number of seconds >= 0; got ${String(value)}.`,
    });
  }
  return value;
}
