// A real test database whose answers arrive late, as from a remote managed Postgres: every statement and
// transaction runs at once, but its result (or error) is handed back only after the time `hold` gives
// for it, so answers can also overtake one another.
import { setTimeout as delay } from 'node:timers/promises';
import type { Database } from '../../src/db/database.ts';
import { openDatabase, type DatabaseSource } from '../../src/db/open-database.ts';

/** Milliseconds to hold back the answer to `text` (transactions pass `undefined`). */
export type HoldBack = (text: string | undefined) => number;

export interface DelayedDatabase {
  /** Pass as `db` to a client; closing the client leaves it open. */
  readonly database: Database;
  /** How long each answer is held back; change it between phases of a test. */
  hold: HoldBack;
  close(): Promise<void>;
}

export const noDelay: HoldBack = () => 0;

/** Holds every answer back for a time between 0 and `maxMs`, in the same (seeded) sequence on every run. */
export function jitter(maxMs: number, seed = 1): HoldBack {
  let state = seed >>> 0 || 1;
  return () => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return Math.round((maxMs * (state >>> 0)) / 2 ** 32);
  };
}

export function delayedDatabase(source: DatabaseSource): DelayedDatabase {
  const { database: inner } = openDatabase(source);
  const delayed: DelayedDatabase = {
    hold: noDelay,
    database: {
      kind: inner.kind,
      listen: (channel, onNotify) => inner.listen(channel, onNotify),
      ready: () => inner.ready(),
      close: async () => {},
      query: (text, params) => late(text, inner.query(text, params)),
      transaction: (fn) => late(undefined, inner.transaction(fn)),
    },
    close: () => inner.close(),
  };
  async function late<T>(text: string | undefined, answer: Promise<T>): Promise<T> {
    const holdMs = delayed.hold(text);
    const [outcome] = await Promise.allSettled([answer]);
    if (holdMs > 0) await delay(holdMs);
    if (outcome!.status === 'rejected') throw outcome!.reason;
    return outcome!.value;
  }
  return delayed;
}
