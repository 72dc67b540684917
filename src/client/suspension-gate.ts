// A task execution can wait for one thing at a time, and once a wait has suspended it, nothing of that
// execution may reach the database again: a model call still in flight would be paid again on resume, a
// tool half run would run again, an approval request not yet written would not be listed. Agent runs of
// one execution (sibling tool calls, runs started side by side, nested runs) therefore share this gate.
// Work that writes a checkpoint (a model call, a tool call, recording an approval request, spawning a
// child) is registered here; a wait asks the database only when every piece of registered work is either
// finished or itself parked in a wait (a run waiting for approval, the tool call a wait runs in). Waits
// pass one at a time, each after the execution's batched stream chunks are stored; work does not start
// while a wait is at the database; after a suspension, waits
// and new work throw Absurd's SuspendTask at once, and each redoes its wait when the task resumes.
import { SuspendTask } from 'absurd-sdk';
import type { CurrentTask } from './current-task.ts';

interface Work {
  /** Checkpoint name of the run or tool call this work is, for parking; calls (model, spawn) have none. */
  readonly key: string | undefined;
  parked: number;
}

interface GateState {
  tail: Promise<unknown>;
  suspended: boolean;
  /** Settles once the wait now at the database has answered. */
  asking: Promise<void> | undefined;
  readonly works: Set<Work>;
  readonly idleWatchers: Set<() => void>;
  /** Run before each wait asks the database (the durable stream stores its batched chunks). */
  readonly beforeWait: Array<() => Promise<void>>;
}

/** A piece of registered work; `end()` is idempotent. */
export interface GateWork {
  end(): void;
}

const gateKey = 'ai-sdk-absurd:suspension-gate';

function gateOf(task: CurrentTask): GateState {
  let gate = task.state.get(gateKey) as GateState | undefined;
  if (!gate) {
    gate = { tail: Promise.resolve(), suspended: false, asking: undefined, works: new Set(), idleWatchers: new Set(), beforeWait: [] };
    task.state.set(gateKey, gate);
  }
  return gate;
}

function busy(gate: GateState): boolean {
  for (const work of gate.works) if (work.parked === 0) return true;
  return false;
}

function notifyIfIdle(gate: GateState): void {
  if (busy(gate)) return;
  for (const watcher of [...gate.idleWatchers]) watcher();
}

function register(gate: GateState, key: string | undefined): GateWork {
  const work: Work = { key, parked: 0 };
  gate.works.add(work);
  return {
    end() {
      if (!gate.works.delete(work)) return;
      notifyIfIdle(gate);
    },
  };
}

const nextTurnOfLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Registers work that writes to the database. Waits while a wait of the execution is at the database;
 * throws SuspendTask once the task has suspended, so nothing starts that a resumed run would redo.
 * `key` (the checkpoint name of a tool call) lets a wait inside that call park it.
 */
export async function startWork(task: CurrentTask, key?: string): Promise<GateWork> {
  const gate = gateOf(task);
  while (gate.asking) await gate.asking;
  if (gate.suspended) throw new SuspendTask();
  return register(gate, key);
}

/**
 * Registers an agent run for its whole life (no waiting: a run begins where its caller is). The run
 * counts as working until it ends, except while it or a tool call in it is parked in a wait.
 */
export function enterRun(task: CurrentTask, prefix: string): GateWork {
  return register(gateOf(task), prefix);
}

/**
 * Registers `prepare` to run before each wait of the execution asks the database, while no work is going:
 * what must be stored before the run may sleep (once it sleeps it may not write).
 */
export function beforeEachWait(task: CurrentTask, prepare: () => Promise<void>): void {
  gateOf(task).beforeWait.push(prepare);
}

/** Runs `start` (e.g. spawning a child task) as registered work. */
export async function beforeWaiting<T>(task: CurrentTask, start: () => Promise<T>): Promise<T> {
  const work = await startWork(task);
  try {
    return await start();
  } finally {
    work.end();
  }
}

/**
 * Parks every registered run or tool call that encloses checkpoint `scope` (itself included) until the
 * returned function is called: work that is waiting does not hold back a sibling's wait.
 */
export function parkScope(task: CurrentTask, scope: string): () => void {
  const gate = gateOf(task);
  const parked: Work[] = [];
  for (const work of gate.works) {
    if (work.key !== undefined && (scope === work.key || scope.startsWith(`${work.key}/`))) {
      work.parked++;
      parked.push(work);
    }
  }
  notifyIfIdle(gate);
  let unparked = false;
  return () => {
    if (unparked) return;
    unparked = true;
    for (const work of parked) work.parked--;
  };
}

async function untilIdle(gate: GateState): Promise<void> {
  for (;;) {
    // Let work that is about to start (a sibling tool call, the next call of a run) register first.
    await nextTurnOfLoop();
    if (!busy(gate) || gate.suspended) return;
    await new Promise<void>((resolve) => {
      const watcher = () => {
        gate.idleWatchers.delete(watcher);
        resolve();
      };
      gate.idleWatchers.add(watcher);
    });
  }
}

/**
 * Runs `wait` (which may throw SuspendTask) once no registered work is going and no other wait of
 * this execution is running; `scope` is the checkpoint name of the tool call the wait is made in.
 * After any wait suspended, throws SuspendTask without running `wait`.
 */
export function waitInTurn<T>(task: CurrentTask, wait: () => Promise<T>, scope?: string): Promise<T> {
  const gate = gateOf(task);
  const unpark = scope === undefined ? () => {} : parkScope(task, scope);
  const turn = gate.tail.then(async () => {
    await untilIdle(gate);
    if (gate.suspended) throw new SuspendTask();
    let answered!: () => void;
    gate.asking = new Promise<void>((resolve) => (answered = resolve));
    try {
      for (const prepare of gate.beforeWait) await prepare();
      return await wait();
    } catch (error) {
      if (error instanceof SuspendTask) gate.suspended = true;
      throw error;
    } finally {
      gate.asking = undefined;
      answered();
    }
  });
  gate.tail = turn.catch(() => {});
  return turn.finally(unpark);
}
