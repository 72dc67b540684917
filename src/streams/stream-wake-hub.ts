import type { Database } from '../db/database.ts';

/** The channel the schema notifies on each stream append; the payload is the task id. */
export const streamChannel = 'absurd_stream';

interface Hub {
  subscribers: Map<string, Set<() => void>>;
  stop: Promise<() => Promise<void>>;
  /** Notifications delivered so far, of any task. */
  generation: number;
}

const hubs = new WeakMap<Database, Hub>();

/**
 * Wakes readers of a task's stream. One LISTEN connection per database is shared by every reader
 * in the process (PGlite delivers its NOTIFY in process); it closes with the last reader.
 */
export function subscribeToStream(database: Database, taskID: string, wake: () => void): () => void {
  let hub = hubs.get(database);
  if (!hub) {
    const created: Hub = { subscribers: new Map(), stop: Promise.resolve(async () => {}), generation: 0 };
    created.stop = database
      .listen(streamChannel, (payload) => {
        created.generation += 1;
        const { subscribers } = created;
        const targets = payload === '' ? [...subscribers.values()].flatMap((set) => [...set]) : [...(subscribers.get(payload) ?? [])];
        for (const target of targets) target();
      })
      .catch(() => async () => {});
    hub = created;
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

/**
 * How many stream notifications this process received from `database` (while it has readers). A read
 * started at one generation saw every chunk notified before it, so readers woken since may share it.
 */
export function streamNotificationGeneration(database: Database): number | undefined {
  return hubs.get(database)?.generation;
}
