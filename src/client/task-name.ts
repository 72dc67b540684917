import { ConfigurationError } from '../errors/configuration-error.ts';

/**
 * Checks a task or event name before it reaches Postgres: it must be a non-blank string, and text
 * columns cannot hold NUL, so control characters are refused with a message that says so.
 */
export function validateName(name: unknown, kind: 'task' | 'event'): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ConfigurationError({
      setting: `${kind}Name`,
      message: `Invalid ${kind} name ${JSON.stringify(name)}: a ${kind} name must be a non-empty, non-blank string.`,
    });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new ConfigurationError({
      setting: `${kind}Name`,
      message:
        `Invalid ${kind} name ${JSON.stringify(name)}: it contains a control character (such as NUL or a newline), ` +
        'which names may not contain. Remove it.',
    });
  }
  return name;
}
