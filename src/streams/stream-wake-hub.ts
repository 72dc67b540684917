import type { Database } from '../db/database.ts';

/** The channel the schema notifies on each stream append; the payload is the task id. */
export const streamChannel = 'absurd_stream';

interface Hub {
  subscribers: Map<string, Set<() => void>>;
  stop: Promise<() => Promise<void>>;
}

const hubs = new WeakMap<Database, Hub>();

/**
 * Wakes readers of a task's stream. One LISTEN connection per database is shared by every reader
 * in the process (PGlite delivers its NOTIFY in process); it closes with the last reader.
 */
export function subscribeToStream(database: Database, taskID: string, wake: () => void): () => void {
  let hub = hubs.get(database);
  if (!hub) {
    const subscribers = new Map<string, Set<() => void>>();
    const stop = database
      .listen(streamChannel, (payload) => {
        const targets = payload === '' ? [...subscribers.values()].flatMap((set) => [...set]) : [...(subscribers.get(payload) ?? [])];
        for (const target of targets) target();
      })
      .catch(() => async () => {});
    hub = { subscribers, stop };
    hubs.set(database, hub);
  }
  const current = hub;
  let set = current.subscribers.get(taskID);
  if (!set) current.subscribers.set(taskID, (set = new Set()));
  set.add(wake);
  return () => {
    set.delete(wake);
    if (set.size === 0) current.subscribers.delete(taskID);
    if (current.subscribers.size === 0 && hubs.get(database) === current) {
      hubs.delete(database);
      void current.stop.then((stop) => stop()).catch(() => {});
    }
  };
}
