// Reads and writes the agent layer's checkpoints through Absurd. `ctx.beginStep` asks the database
// about every name it has not seen, which is a round trip per live call. The agent layer instead loads
// the task's checkpoints once per execution: past that point only this execution writes its names, so
// a name missing from what was loaded (and written since) has no checkpoint.
import type { StepHandle } from 'absurd-sdk';
import type { CurrentTask } from '../client/current-task.ts';

const stateKey = 'ai-sdk-absurd:checkpoints';

interface CheckpointRow {
  checkpoint_name: string;
  state: unknown;
}

function loadedCheckpoints(task: CurrentTask): Promise<Map<string, unknown>> {
  let loaded = task.state.get(stateKey) as Promise<Map<string, unknown>> | undefined;
  if (!loaded && task.initialCheckpoints) {
    // absurd-sdk loaded them when the run started: reuse that load.
    loaded = Promise.resolve(new Map(task.initialCheckpoints));
    task.state.set(stateKey, loaded);
  }
  if (!loaded) {
    loaded = task.absurd.database
      .query<CheckpointRow>('select checkpoint_name, state from absurd.get_task_checkpoint_states($1, $2, $3)', [
        task.queueName,
        task.taskID,
        task.runID,
      ])
      .then(({ rows }) => new Map(rows.map((row) => [row.checkpoint_name, row.state])));
    task.state.set(stateKey, loaded);
    // A failed load is retried by the next call rather than remembered.
    loaded.catch(() => task.state.delete(stateKey));
  }
  return loaded;
}

/**
 * Starts the checkpoint `name`: done with its state when an earlier attempt (or this one) wrote it.
 * Names the agent layer builds are unique within a task, so Absurd's `#n` numbering never applies.
 */
export async function beginCheckpoint(task: CurrentTask, name: string): Promise<StepHandle<unknown>> {
  const checkpoints = await loadedCheckpoints(task);
  const state = checkpoints.get(name);
  if (state !== undefined) return { name, checkpointName: name, done: true, state };
  return { name, checkpointName: name, done: false };
}

/** Writes the checkpoint (renewing the lease) and remembers it for the rest of the execution. */
export async function completeCheckpoint(task: CurrentTask, handle: StepHandle<unknown>, value: unknown): Promise<void> {
  await task.ctx.completeStep<unknown>(handle, value);
  (await loadedCheckpoints(task)).set(handle.checkpointName, value);
}
