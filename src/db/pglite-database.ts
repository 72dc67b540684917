import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { DatabaseLockedError } from '../errors/database-locked-error.ts';
import { migrate } from '../schema/migrate.ts';
import type { Database, Queryable } from './database.ts';

interface SharedInstance {
  pglite: Promise<PGlite>;
  references: number;
  releaseLock: () => void;
}

// Clients in one process that name the same directory share one PGlite: it allows a single owner.
const openDirectories = new Map<string, SharedInstance>();

/**
 * A `Database` over embedded PGlite. `location` is `memory` or a directory. The schema is applied on
 * open, so `pglite:` URLs need no setup step. A directory is locked to one process at a time.
 */
export function createPGliteDatabase(location: string | PGlite, options: { migrate?: boolean } = {}): Database {
  const applyMigrations = options.migrate ?? true;
  const prepare = async (pglite: PGlite) => {
    if (applyMigrations) await migrate(pglite);
    return pglite;
  };
  let pglitePromise: Promise<PGlite>;
  let release: () => Promise<void>;

  if (typeof location !== 'string') {
    pglitePromise = prepare(location);
    release = async () => {};
  } else if (location === 'memory') {
    pglitePromise = loadPGlite().then(async (PGliteClass) => {
      return prepare(await PGliteClass.create());
    });
    release = async () => {
      const pglite = await pglitePromise.catch(() => undefined);
      if (pglite && !pglite.closed) await pglite.close();
    };
  } else {
    const directory = resolve(location);
    let shared = openDirectories.get(directory);
    if (!shared) {
      const releaseLock = acquireDirectoryLock(directory);
      const opening = (async () => {
        await mkdir(dirname(directory), { recursive: true });
        const PGliteClass = await loadPGlite();
        return prepare(await PGliteClass.create(directory));
      })();
      shared = { pglite: opening, references: 0, releaseLock };
      opening.catch(() => {
        openDirectories.delete(directory);
        releaseLock();
      });
      openDirectories.set(directory, shared);
    }
    shared.references += 1;
    const instance = shared;
    pglitePromise = instance.pglite;
    let released = false;
    release = async () => {
      if (released) return;
      released = true;
      instance.references -= 1;
      if (instance.references > 0) return;
      openDirectories.delete(directory);
      const pglite = await instance.pglite.catch(() => undefined);
      if (pglite && !pglite.closed) await pglite.close();
      instance.releaseLock();
    };
  }
  // Surface open errors on first use, not as unhandled rejections.
  pglitePromise.catch(() => {});

  return {
    kind: 'pglite',
    async query(text, params) {
      const pglite = await pglitePromise;
      return (await pglite.query(text, params as unknown[])) as { rows: any[] };
    },
    async transaction(fn) {
      const pglite = await pglitePromise;
      return pglite.transaction(async (transaction) => {
        const wrapped = {
          query: async (text: string, params?: unknown[]) => (await transaction.query(text, params)) as { rows: any[] },
          exec: async (sql: string) => {
            await transaction.exec(sql);
          },
        } as Queryable & { exec(sql: string): Promise<void> };
        return fn(wrapped);
      });
    },
    async listen(channel, onNotify) {
      const pglite = await pglitePromise;
      const unlisten = await pglite.listen(channel, onNotify);
      return async () => {
        if (!pglite.closed) await unlisten();
      };
    },
    ready: async () => {
      await pglitePromise;
    },
    close: () => release(),
  };
}

/** Loaded on first use, so processes that only talk to Postgres never pay for the embedded engine. */
async function loadPGlite(): Promise<typeof PGlite> {
  const module = await import('@electric-sql/pglite');
  return module.PGlite;
}

/**
 * Takes `<directory>.lock` for this process. A lock left by a process that no longer exists
 * (for example one killed with SIGKILL) is stale and is taken over.
 */
function acquireDirectoryLock(directory: string): () => void {
  const lockPath = `${directory}.lock`;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const descriptor = openSync(lockPath, 'wx');
      writeSync(descriptor, String(process.pid));
      closeSync(descriptor);
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // The parent directory does not exist yet.
        createParentDirectory(lockPath);
        continue;
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const ownerPid = readOwner(lockPath);
      if (ownerPid !== undefined && ownerPid !== process.pid && isAlive(ownerPid)) {
        throw new DatabaseLockedError({ dataDir: directory, ownerPid });
      }
      try {
        unlinkSync(lockPath);
      } catch {
        // Another process took it over first; the next attempt reads its pid.
      }
    }
  }
  const ownerPid = readOwner(lockPath) ?? -1;
  throw new DatabaseLockedError({ dataDir: directory, ownerPid });
}

function createParentDirectory(path: string): void {
  // Synchronous so that the lock is taken before any asynchronous open starts.
  mkdirSync(dirname(path), { recursive: true });
}

function readOwner(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
