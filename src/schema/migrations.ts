import { createHash } from 'node:crypto';
import { embeddedMigrations } from './embedded-migrations.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

// The SQL is written and reviewed in sql/migrations/ (shipped too); the library loads the same text from a
// generated module, so no file beside the compiled code is read and bundled builds work.

let cached: readonly Migration[] | undefined;

/** Every migration this version of the library knows, in the order they apply. */
export function loadMigrations(): readonly Migration[] {
  if (cached) return cached;
  cached = sequenceMigrations(embeddedMigrations);
  return cached;
}

/** Numbers named migration files and refuses a gap or a badly named file: each must be `NNNN_name.sql`, from 0001 on. */
export function sequenceMigrations(files: ReadonlyArray<{ readonly file: string; readonly sql: string }>): Migration[] {
  return [...files]
    .sort((left, right) => (left.file < right.file ? -1 : left.file > right.file ? 1 : 0))
    .map(({ file, sql: text }, index) => {
      if (!/^\d{4}_[a-z0-9_]+\.sql$/.test(file)) {
        throw new Error(`Migration ${file} is not named NNNN_name.sql (four digits, then lowercase letters, digits and underscores).`);
      }
      const version = Number.parseInt(file.slice(0, 4), 10);
      if (version !== index + 1) throw new Error(`Migration ${file} is out of sequence: expected number ${index + 1}.`);
      const sql = normalizeLineEndings(text);
      return { version, name: file.slice(5, -4), sql, checksum: migrationChecksum(sql) };
    });
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
