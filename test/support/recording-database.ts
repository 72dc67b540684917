// A client's real database with every statement it sends recorded, for tests that count round trips.
import type { Database } from '../../src/db/database.ts';
import { openDatabase, type DatabaseSource } from '../../src/db/open-database.ts';

export interface RecordingDatabase {
  /** Pass as `db` to a client; closing the client leaves it open. */
  readonly database: Database;
  /** The text of every statement sent, in order; clear it with `statements.length = 0`. */
  readonly statements: string[];
  /** How many recorded statements contain `fragment`. */
  count(fragment: string): number;
  close(): Promise<void>;
}

export function recordingDatabase(source: DatabaseSource): RecordingDatabase {
  const { database: inner } = openDatabase(source);
  const statements: string[] = [];
  const database: Database = {
    kind: inner.kind,
    transaction: (fn) => inner.transaction(fn),
    listen: (channel, onNotify) => inner.listen(channel, onNotify),
    ready: () => inner.ready(),
    close: async () => {},
    query: (text, params) => {
      statements.push(text);
      return inner.query(text, params);
    },
  };
  return {
    database,
    statements,
    count: (fragment) => statements.filter((text) => text.includes(fragment)).length,
    close: () => inner.close(),
  };
}
