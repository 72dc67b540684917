import type { UIMessageChunk } from 'ai';
import { getCurrentTask, type CurrentTask } from '../client/current-task.ts';
import { beforeEachWait } from '../client/suspension-gate.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import { StreamWriter } from './stream-writer.ts';

const writerKey = 'ai-sdk-absurd:stream-writer';

/** The durable stream writer of the task whose handler runs in this async context. */
export function currentStreamWriter(): StreamWriter | undefined {
  const task = getCurrentTask();
  return task && streamWriterOf(task);
}

/** The one durable stream writer of this execution of `task`'s handler. */
export function streamWriterOf(task: CurrentTask): StreamWriter {
  let writer = task.state.get(writerKey) as StreamWriter | undefined;
  if (!writer) {
    const created = new StreamWriter(task.absurd.database, task.queueName, task.taskID, task.runID);
    task.state.set(writerKey, created);
    // Chunks still batched are stored before the task may suspend: a sleeping run cannot append, and readers see them meanwhile.
    beforeEachWait(task, () => created.flush());
    writer = created;
  }
  return writer;
}

/** Resolves once everything this execution wrote to its durable stream is stored (at once when it wrote nothing). */
export async function flushTaskStream(task: CurrentTask): Promise<void> {
  const writer = task.state.get(writerKey) as StreamWriter | undefined;
  if (writer) await writer.flush();
}

/**
 * Appends a chunk of the task's own to its durable stream and resolves once it is stored. Call it
 * inside `ctx.step(…)` to write it once: a step replayed from its checkpoint does not run again.
 */
export async function appendStreamChunk(chunk: UIMessageChunk): Promise<void> {
  const writer = currentStreamWriter();
  if (!writer) throw new NotInTaskError({ operation: 'appendStreamChunk' });
  writer.write(chunk);
  await writer.flush();
}
