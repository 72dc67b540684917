// Keeps the lease of a task alive while a model call or tool call is in flight. Absurd extends the
// lease on every checkpoint write, but one long model stream or tool can outlast it, and the worker
// exits the process at twice the lease. The heartbeat also notices a cancelled task mid-call.
import { onExecutionEnd, type CurrentTask } from '../client/current-task.ts';
import { isAbsurdControlFlow } from './run-fatal-error.ts';

interface HeartbeatState {
  inFlight: number;
  timer: ReturnType<typeof setInterval> | undefined;
  /** Set once the task was found cancelled or failed: this execution has nothing left to keep alive. */
  stopped: boolean;
  /** Called with Absurd's control-flow error when a heartbeat finds the task cancelled or failed. */
  readonly listeners: Set<(error: unknown) => void>;
}

const stateKey = 'ai-sdk-absurd:heartbeat';

function heartbeatState(task: CurrentTask): HeartbeatState {
  let state = task.state.get(stateKey) as HeartbeatState | undefined;
  if (!state) {
    state = { inFlight: 0, timer: undefined, stopped: false, listeners: new Set() };
    task.state.set(stateKey, state);
    const created = state;
    // A call whose stream was never read to its end never leaves; the execution's end stops the timer.
    onExecutionEnd(task, () => {
      created.stopped = true;
      clearInterval(created.timer);
      created.timer = undefined;
    });
  }
  return state;
}

/**
 * Marks one call as in flight until the returned function is called (calling it again is harmless).
 * While anything is in flight the lease is renewed every `claimTimeout / 2` seconds.
 */
export function enterInFlight(task: CurrentTask): () => void {
  const state = heartbeatState(task);
  state.inFlight++;
  if (state.inFlight === 1 && !state.timer && !state.stopped) {
    const intervalMs = Math.max(50, (task.claimTimeout * 1000) / 2);
    state.timer = setInterval(() => beat(task, state), intervalMs);
    state.timer.unref?.();
  }
  let left = false;
  return () => {
    if (left) return;
    left = true;
    state.inFlight--;
    if (state.inFlight === 0 && state.timer) {
      clearInterval(state.timer);
      state.timer = undefined;
    }
  };
}

/** Registers a listener told when a heartbeat finds the task cancelled or already failed. */
export function onTaskStopped(task: CurrentTask, listener: (error: unknown) => void): void {
  heartbeatState(task).listeners.add(listener);
}

function beat(task: CurrentTask, state: HeartbeatState): void {
  task.ctx.heartbeat().catch((error: unknown) => {
    // Other failures (a dropped connection) surface at the next checkpoint write instead.
    if (!isAbsurdControlFlow(error) || state.stopped) return;
    state.stopped = true;
    clearInterval(state.timer);
    state.timer = undefined;
    for (const listener of state.listeners) listener(error);
  });
}
