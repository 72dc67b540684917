import type { Database } from '../db/database.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { InvalidPayloadError } from '../errors/invalid-payload-error.ts';
import { assertSchemaCurrent } from '../schema/migrate.ts';

interface PostgresError {
  code?: string;
  message?: string;
}

/**
 * Turns the few driver errors a user can cause by setup mistakes into errors that say how to fix
 * them. Everything else, AB001/AB002 included, passes through unchanged, because absurd-sdk
 * recognises task-state errors by their SQLSTATE.
 */
export async function mapDatabaseError(error: unknown, database: Database): Promise<unknown> {
  const { code, message = '' } = (error ?? {}) as PostgresError;
  if (code === '3F000' || (code === '42883' && message.includes('absurd.'))) {
    try {
      await assertSchemaCurrent(database);
    } catch (schemaError) {
      return schemaError;
    }
    return error;
  }
  if (code === '42P01') {
    // Either the schema's own check ("queue x does not exist") or a missing per-queue table.
    const match = /^queue (.+) does not exist/.exec(message) ?? /relation "absurd\.[tcerw]_(.+)" does not exist/.exec(message);
    if (match) {
      const queue = match[1];
      return Object.assign(
        new ConfigurationError({
          setting: 'queueName',
          message: `Queue "${queue}" does not exist. Create it first with absurd.createQueue('${queue}').`,
          cause: error,
        }),
        { code },
      );
    }
  }
  if (code === '22P05' || (code === '22P02' && message.includes('\\u0000'))) {
    return new InvalidPayloadError({
      subject: 'A JSON value',
      message: `Postgres rejected a JSON value containing a NUL character (\\u0000): ${message}. Remove or encode the NUL character.`,
      cause: error,
    });
  }
  return error;
}
