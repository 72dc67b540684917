// Tool calls of one step run concurrently, but a run can wait for one thing at a time: once one call
// has suspended the task, a sibling must not ask the database to wait as well (the run is already
// sleeping). Waits of one execution therefore pass one at a time, after every sibling that is still
// starting work (spawning a child task) has finished doing so; after a suspension the rest suspend at
// once, and each redoes its wait when the task resumes.
import { SuspendTask } from 'absurd-sdk';
import type { CurrentTask } from './current-task.ts';

interface GateState {
  tail: Promise<unknown>;
  suspended: boolean;
  starting: number;
  started: Array<() => void>;
}

const gateKey = 'ai-sdk-absurd:suspension-gate';

function gateOf(task: CurrentTask): GateState {
  let gate = task.state.get(gateKey) as GateState | undefined;
  if (!gate) {
    gate = { tail: Promise.resolve(), suspended: false, starting: 0, started: [] };
    task.state.set(gateKey, gate);
  }
  return gate;
}

/** Runs `start` (work a sibling's wait must not overtake, e.g. spawning a child) as starting work. */
export async function beforeWaiting<T>(task: CurrentTask, start: () => Promise<T>): Promise<T> {
  const gate = gateOf(task);
  gate.starting++;
  try {
    return await start();
  } finally {
    gate.starting--;
    if (gate.starting === 0) for (const resolve of gate.started.splice(0)) resolve();
  }
}

/**
 * Runs `wait` (which may throw SuspendTask) once no sibling is starting work and no other wait of
 * this execution is running. After any wait suspended, throws SuspendTask without running `wait`.
 */
export function waitInTurn<T>(task: CurrentTask, wait: () => Promise<T>): Promise<T> {
  const gate = gateOf(task);
  const turn = gate.tail.then(async () => {
    // Let sibling tool calls of the same step begin (they start in the same turn of the event loop).
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (gate.starting > 0) await new Promise<void>((resolve) => gate.started.push(resolve));
    if (gate.suspended) throw new SuspendTask();
    try {
      return await wait();
    } catch (error) {
      if (error instanceof SuspendTask) gate.suspended = true;
      throw error;
    }
  });
  gate.tail = turn.catch(() => {});
  return turn;
}
