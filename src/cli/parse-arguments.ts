// Parsers for option values: a bad value is a usage error (exit code 2) that says what was expected.
import { InvalidArgumentError } from 'commander';

export function parsePositiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return parsed;
}

const secondsPerUnit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * A duration as whole seconds: `3600`, `90s`, `30m`, `12h`, `7d` or `2w`.
 *
 * @example
 * parseDuration('7d'); // 604800
 */
export function parseDuration(value: string): number {
  const match = /^(\d+)\s*([smhdw]?)$/i.exec(value.trim());
  const seconds = match ? Number(match[1]) * (secondsPerUnit[(match[2] || 's').toLowerCase()] ?? 1) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds > 2_147_483_647) {
    throw new InvalidArgumentError('expected a duration such as 3600, 90s, 30m, 12h, 7d or 2w (0 or more, at most 68 years)');
  }
  return seconds;
}
