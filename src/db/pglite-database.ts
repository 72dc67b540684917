import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { DatabaseLockedError } from '../errors/database-locked-error.ts';
import type { Database, Queryable } from './database.ts';
import { processExists } from './process-exists.ts';

interface SharedInstance {
  pglite: Promise<PGlite>;
  references: number;
  releaseLock: () => void;
}

// Clients in one process that name the same directory share one PGlite: it allows a single owner.
const openDirectories = new Map<string, SharedInstance>();

/**
 * A `Database` over embedded PGlite. `location` is `memory` or a directory. `setUp` (the schema setup
 * `openDatabase` decided) runs as it opens, before any query. A directory is locked to one process at a time.
 */
export function createPGliteDatabase(location: string | PGlite, options: { setUp?: (pglite: PGlite) => Promise<void> } = {}): Database {
  // An instance this adapter created is closed again when setting it up fails, so nothing keeps running.
  const prepare = async (pglite: PGlite, created = true) => {
    try {
      await options.setUp?.(pglite);
    } catch (error) {
      if (created && !pglite.closed) await pglite.close().catch(() => {});
      throw error;
    }
    return pglite;
  };
  let pglitePromise: Promise<PGlite>;
  let release: () => Promise<void>;

  if (typeof location !== 'string') {
    pglitePromise = prepare(location, false);
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
      return inPGliteTransaction(await pglitePromise, fn);
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

/** Runs `fn` in one PGlite transaction, through the shape every query path of the library uses. */
export function inPGliteTransaction<T>(
  pglite: PGlite,
  fn: (transaction: Queryable & { exec(sql: string): Promise<void> }) => Promise<T>,
): Promise<T> {
  return pglite.transaction((transaction) =>
    fn({
      query: async (text, params) => (await transaction.query(text, params as unknown[])) as { rows: any[] },
      exec: async (sql) => {
        await transaction.exec(sql);
      },
    }),
  );
}

/** Loaded on first use, so processes that only talk to Postgres never pay for the embedded engine. */
async function loadPGlite(): Promise<typeof PGlite> {
  const module = await import('@electric-sql/pglite');
  return module.PGlite;
}

/** A lock whose content names no process (written by an older version, or cut short) is stale after this long. */
const unreadableLockStaleAfterMs = 2_000;
/** How long an open waits for a takeover or an unreadable lock to resolve before it gives up. */
const lockWaitLimitMs = unreadableLockStaleAfterMs + 1_000;
/** Tokens of the directory locks this process holds now. */
const heldLockTokens = new Set<string>();

interface LockFileState {
  readonly text: string;
  readonly inode: number;
  readonly ageMs: number;
  readonly pid: number | undefined;
  readonly token: string | undefined;
}

/**
 * Takes `<directory>.lock` for this process; every other process gets `DatabaseLockedError`.
 *
 * The lock file holds `<pid>\n<token>\n` and appears with that content at once: it is written to a file of its
 * own and hard-linked onto the lock path, which fails if the lock exists. A lock whose process no longer exists
 * (for example one killed with SIGKILL), or an unreadable one older than two seconds, is stale. Only the process
 * that holds `<directory>.lock.takeover` (created the same exclusive way) may remove a stale lock, after checking
 * it is still the very file it judged stale; a takeover marker left by a dead process, or older than two seconds,
 * is itself stale and removed the same careful way. The lock counts as taken only once it is read back with this process's token.
 */
function acquireDirectoryLock(directory: string): () => void {
  const lockPath = `${directory}.lock`;
  const token = randomBytes(16).toString('hex');
  const content = `${process.pid}\n${token}\n`;
  const deadline = Date.now() + lockWaitLimitMs;
  let ownerPid = -1;
  for (let round = 0; ; round += 1) {
    if (round > 0 && Date.now() > deadline) throw new DatabaseLockedError({ dataDir: directory, ownerPid });
    if (createLockFile(lockPath, content)) {
      if (readLockFile(lockPath)?.text === content) {
        heldLockTokens.add(token);
        return () => releaseLockFile(lockPath, content, token);
      }
      // Taken over between the link and the check: the next round reads the new owner.
      continue;
    }
    const current = readLockFile(lockPath);
    if (current === undefined) continue; // Released meanwhile.
    const state = ownershipOf(current);
    if (state === 'alive') throw new DatabaseLockedError({ dataDir: directory, ownerPid: current.pid ?? -1 });
    if (state === 'unknown') {
      sleepSync(20);
      continue;
    }
    const takeover = takeOverStaleLock(lockPath, current);
    if (takeover.busyWith !== undefined) {
      ownerPid = takeover.busyWith;
      sleepSync(5);
    }
  }
}

/**
 * Removes the stale lock `stale` while holding the takeover marker. Returns the pid of the process
 * whose takeover is in progress when the marker is held by someone else.
 */
function takeOverStaleLock(lockPath: string, stale: LockFileState): { busyWith?: number } {
  const markerPath = `${lockPath}.takeover`;
  const markerContent = `${process.pid}\n${randomBytes(16).toString('hex')}\n`;
  if (!createLockFile(markerPath, markerContent)) {
    const marker = readLockFile(markerPath);
    if (marker === undefined) return {};
    // A takeover takes moments: an old marker is stale even if its pid now names another live process.
    if (ownershipOf(marker) === 'stale' || marker.ageMs > unreadableLockStaleAfterMs) {
      removeIfUnchanged(markerPath, marker);
      return {};
    }
    return { busyWith: marker.pid ?? -1 };
  }
  try {
    const current = readLockFile(lockPath);
    if (current !== undefined && sameFile(current, stale)) removeIfUnchanged(lockPath, current);
  } finally {
    releaseLockFile(markerPath, markerContent);
  }
  return {};
}

/** Creates `path` with `content` if it does not exist; false if it does. Never leaves it empty or partial. */
function createLockFile(path: string, content: string): boolean {
  const candidatePath = `${path}.${process.pid}-${randomBytes(6).toString('hex')}`;
  writeCandidate(candidatePath, content);
  try {
    linkSync(candidatePath, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
      return createLockFileWithoutLinks(path, content);
    }
    throw error;
  } finally {
    unlinkQuietly(candidatePath);
  }
}

/** For file systems without hard links: exclusive create, then write. An unreadable moment is waited out. */
function createLockFileWithoutLinks(path: string, content: string): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(descriptor, content);
  } finally {
    closeSync(descriptor);
  }
  return true;
}

function writeCandidate(candidatePath: string, content: string): void {
  try {
    writeFileSync(candidatePath, content, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // The parent directory does not exist yet. Synchronous, so that the lock is taken before any open starts.
    mkdirSync(dirname(candidatePath), { recursive: true });
    writeFileSync(candidatePath, content, { flag: 'wx' });
  }
}

/**
 * Removes `path` only if it is still the file `expected`: renaming moves exactly one file atomically, and a
 * file that turns out to be another (written since it was read) is linked back.
 */
function removeIfUnchanged(path: string, expected: LockFileState): void {
  const asidePath = `${path}.${process.pid}-${randomBytes(6).toString('hex')}.removed`;
  try {
    renameSync(path, asidePath);
  } catch {
    return; // Someone else removed it first.
  }
  const moved = readLockFile(asidePath);
  if (moved !== undefined && !sameFile(moved, expected)) {
    try {
      linkSync(asidePath, path);
    } catch {
      // A newer file took the place; it wins.
    }
  }
  unlinkQuietly(asidePath);
}

/** Removes the lock (or marker) at `path` if it still holds this process's content. */
function releaseLockFile(path: string, content: string, token?: string): void {
  if (readLockFile(path)?.text === content) unlinkQuietly(path);
  if (token !== undefined) heldLockTokens.delete(token);
}

/** `alive`: its process runs; `stale`: it can be taken over; `unknown`: unreadable and too young to judge. */
function ownershipOf(lock: LockFileState): 'alive' | 'stale' | 'unknown' {
  if (lock.pid === undefined) return lock.ageMs > unreadableLockStaleAfterMs ? 'stale' : 'unknown';
  // This process's pid with a token it does not hold: left by an earlier process that had the same pid.
  if (lock.pid === process.pid) return lock.token !== undefined && heldLockTokens.has(lock.token) ? 'alive' : 'stale';
  return processExists(lock.pid) ? 'alive' : 'stale';
}

function readLockFile(path: string): LockFileState | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(descriptor);
    const text = readFileSync(descriptor, 'utf8');
    const [pidText, token] = text.split('\n');
    const pid = /^\s*\d+\s*$/.test(pidText ?? '') ? Number.parseInt(pidText!, 10) : undefined;
    return {
      text,
      inode: stats.ino,
      ageMs: Date.now() - stats.mtimeMs,
      pid: pid !== undefined && pid > 0 ? pid : undefined,
      token: token?.trim() || undefined,
    };
  } catch {
    return undefined;
  } finally {
    closeSync(descriptor);
  }
}

function sameFile(a: LockFileState, b: LockFileState): boolean {
  return a.inode === b.inode && a.text === b.text;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(milliseconds: number): void {
  Atomics.wait(sleepCell, 0, 0, milliseconds);
}
