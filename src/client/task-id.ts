import { ConfigurationError } from '../errors/configuration-error.ts';

// A task id as Postgres prints a uuid: 8-4-4-4-12 hexadecimal digits, either case.
const taskIDPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` has the shape of a task (or run) id, so a lookup can answer "unknown" without asking Postgres. */
export function isTaskID(value: unknown): value is string {
  return typeof value === 'string' && taskIDPattern.test(value);
}

/**
 * Checks a task id before it reaches a `uuid` parameter, so a mistyped id fails with a message that
 * says what a task id looks like instead of Postgres's `invalid input syntax for type uuid`.
 */
export function validateTaskID(value: unknown): string {
  if (isTaskID(value)) return value;
  throw new ConfigurationError({
    setting: 'taskID',
    message:
      `Invalid task id ${JSON.stringify(value)}: a task id is a UUID such as "0190f5c2-7b1e-7c3a-9d4e-2f6a8b0c1d2e", ` +
      'as spawn() returns it in taskID. Check that the whole id was passed.',
  });
}
