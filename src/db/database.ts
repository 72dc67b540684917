import type { PGlite } from '@electric-sql/pglite';

/** The one shape every query path in this library needs: node-postgres's `query(text, params) → { rows }`. */
export interface Queryable {
  query<Row = any>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

/**
 * A connection source the library owns or borrows: a pg pool or an embedded PGlite, behind one interface.
 * It is also a `Queryable`, so it can be handed to the `absurd-sdk` client as its `db`.
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction on one connection. */
  transaction<T>(fn: (transaction: Queryable & { exec(sql: string): Promise<void> }) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on `channel`; the returned function unsubscribes. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Resolves once the database is open (and, for PGlite, migrated). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function isPGlite(value: unknown): value is PGlite {
  return (
    value != null &&
    typeof value === 'object' &&
    typeof (value as PGlite).exec === 'function' &&
    typeof (value as PGlite).listen === 'function' &&
    'waitReady' in (value as object)
  );
}

export function isDatabase(value: unknown): value is Database {
  return (
    value != null &&
    typeof value === 'object' &&
    typeof (value as Database).transaction === 'function' &&
    typeof (value as Database).listen === 'function' &&
    typeof (value as Database).ready === 'function' &&
    ((value as Database).kind === 'postgres' || (value as Database).kind === 'pglite')
  );
}
