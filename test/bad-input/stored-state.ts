// What the bad-input catalogue checks after every refused input: the error is one of the library's
// classes, its message says what was wrong and how to fix it, and every row already stored is
// exactly as it was (nothing lost, nothing half-written).
import assert from 'node:assert/strict';
import { AiSdkAbsurdError } from '../../src/errors/ai-sdk-absurd-error.ts';
import type { TestDatabase } from '../support/test-database.ts';

/** Every row of every table in the library's schemas, as sorted JSON text per table. */
export async function storedState(database: Pick<TestDatabase, 'query'>): Promise<Record<string, string[]>> {
  const { rows: tables } = await database.query<{ schema: string; name: string }>(
    `select table_schema as schema, table_name as name from information_schema.tables
      where table_schema in ('absurd', 'ai_sdk_absurd') and table_type = 'BASE TABLE'
      order by 1, 2`,
  );
  const state: Record<string, string[]> = {};
  for (const table of tables) {
    const qualified = `"${table.schema}"."${table.name.replaceAll('"', '""')}"`;
    const { rows } = await database.query<{ row: string }>(`select to_jsonb(stored)::text as row from ${qualified} stored`);
    state[`${table.schema}.${table.name}`] = rows.map((entry) => entry.row).sort();
  }
  return state;
}

/** Asserts that the stored rows equal `before`, table by table. */
export async function assertNothingStoredChanged(
  database: Pick<TestDatabase, 'query'>,
  before: Record<string, string[]>,
): Promise<void> {
  assert.deepEqual(await storedState(database), before, 'a refused input changed or lost stored rows');
}

type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * A validator for `assert.throws` / `assert.rejects`: the error is an instance of `errorClass` (and of the
 * library's base class), and its message matches every pattern (what was wrong, how to fix it).
 */
export function clearError(errorClass: ErrorClass, ...patterns: RegExp[]): (error: unknown) => true {
  return (error: unknown) => {
    assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${describe(error)}`);
    assert.ok(AiSdkAbsurdError.isInstance(error), `${errorClass.name} must carry the library's error marker`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`;
  return String(error);
}
