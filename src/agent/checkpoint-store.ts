// Reads and writes the agent layer's checkpoints (model calls, tool calls) through the claimed run's
// one checkpoint path (src/client/claimed-run-queries.ts), under its one rule: what the execution
// loaded or wrote is answered from memory, and a name it has not seen means "not written" only while
// the run's lease certainly holds; otherwise the database is asked. Writes go through absurd-sdk's
// `completeStep`, which renews the lease, and the path remembers them.
import type { StepHandle } from 'absurd-sdk';
import { checkpointHandle } from '../client/absurd-sdk-adapter.ts';
import { findCheckpoint } from '../client/claimed-run-queries.ts';
import { claimedRunOf, type CurrentTask } from '../client/current-task.ts';

/**
 * Starts the checkpoint `name`: done with its state when an earlier attempt (or this one) wrote it.
 * Names the agent layer builds are unique within a task, so Absurd's `#n` numbering never applies.
 */
export async function beginCheckpoint(task: CurrentTask, name: string): Promise<StepHandle<unknown>> {
  return checkpointHandle(name, await findCheckpoint(claimedRunOf(task), task.absurd.database, task, name));
}

/** Writes the checkpoint; absurd-sdk renews the lease with it, and the run's path remembers it. */
export async function completeCheckpoint(task: CurrentTask, handle: StepHandle<unknown>, value: unknown): Promise<void> {
  await task.ctx.completeStep<unknown>(handle, value);
}
