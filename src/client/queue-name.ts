import { ConfigurationError } from '../errors/configuration-error.ts';

export const maxQueueNameBytes = 57;

/**
 * Rejects queue names the schema would refuse, on the client, with a message that says how to fix them.
 * Names become parts of table names (`t_<queue>`), so they are limited to 57 bytes in UTF-8. As in the
 * protocol, anything else is a name, blanks and tabs included; only NUL (which Postgres text cannot hold)
 * and lone surrogates (which Postgres would store as another character) are refused besides.
 */
export function validateQueueName(queueName: unknown): string {
  if (typeof queueName !== 'string' || queueName === '') {
    throw new ConfigurationError({
      setting: 'queueName',
      message: `Invalid queue name ${JSON.stringify(queueName)}: a queue name must be a non-empty string, e.g. 'agents'.`,
    });
  }
  const bytes = Buffer.byteLength(queueName, 'utf8');
  if (bytes > maxQueueNameBytes) {
    throw new ConfigurationError({
      setting: 'queueName',
      message:
        `Invalid queue name "${queueName}": it is ${bytes} bytes in UTF-8, over the limit of ${maxQueueNameBytes} ` +
        '(queue names become parts of Postgres table names). Choose a shorter name.',
    });
  }
  if (queueName.includes('\u0000')) {
    throw new ConfigurationError({
      setting: 'queueName',
      message: `Invalid queue name ${JSON.stringify(queueName)}: it contains a NUL character, which Postgres text cannot hold. Remove it.`,
    });
  }
  if (!queueName.isWellFormed()) {
    throw new ConfigurationError({
      setting: 'queueName',
      message:
        `Invalid queue name ${JSON.stringify(queueName)}: it contains a lone UTF-16 surrogate (half of a character pair), ` +
        'which Postgres would store as U+FFFD and so merge with other names. Fix the string (for example with String.prototype.toWellFormed()).',
    });
  }
  return queueName;
}

/** Rejects a claim timeout the schema cannot take: it is stored as whole seconds. */
export function validateClaimTimeout(claimTimeout: unknown): void {
  if (claimTimeout === undefined) return;
  if (typeof claimTimeout !== 'number' || !Number.isInteger(claimTimeout) || claimTimeout <= 0) {
    throw new ConfigurationError({
      setting: 'claimTimeout',
      message: `Invalid claimTimeout ${String(claimTimeout)}: it must be a positive whole number of seconds, e.g. 120.`,
    });
  }
}
