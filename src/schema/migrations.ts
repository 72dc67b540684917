import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

// The SQL files ship beside the compiled code (`sql/` at the package root), so they stay reviewable as SQL.
const migrationsDirectory = new URL('../../sql/migrations/', import.meta.url);

let cached: readonly Migration[] | undefined;

/** Every migration this version of the library knows, in the order they apply. */
export function loadMigrations(): readonly Migration[] {
  if (cached) return cached;
  const files = readdirSync(migrationsDirectory)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort();
  cached = files.map((file, index) => {
    const version = Number.parseInt(file.slice(0, 4), 10);
    if (version !== index + 1) throw new Error(`Migration ${file} is out of sequence: expected number ${index + 1}.`);
    const sql = normalizeLineEndings(readFileSync(new URL(file, migrationsDirectory), 'utf8'));
    return { version, name: file.slice(5, -4), sql, checksum: migrationChecksum(sql) };
  });
  return cached;
}

/** CRLF and lone CR line endings as LF, so a checkout with Windows line endings holds the same migrations. */
export function normalizeLineEndings(sql: string): string {
  return sql.replace(/\r\n?/g, '\n');
}

/**
 * The checksum recorded for a migration: the first 16 hex digits of the SHA-256 of its text with LF
 * line endings, so a file checked out with CRLF line endings is not mistaken for an edited one.
 */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(normalizeLineEndings(sql)).digest('hex').slice(0, 16);
}

/** The schema version this library expects: the number of its newest migration. */
export function librarySchemaVersion(): number {
  return loadMigrations().at(-1)?.version ?? 0;
}
