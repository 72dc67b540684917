// The agent side of one task execution's durable stream: every `stream()` call of an AbsurdAgent in the
// execution publishes through it, so the chunks of earlier attempts are matched once, in the order the
// calls produce them, and the message has one `start`.
import type { UIMessageChunk } from 'ai';
import type { CurrentTask } from '../client/current-task.ts';
import { streamWriterOf } from './append-stream-chunk.ts';
import { StreamReplayAlignment, type StoredChunk } from './stream-replay-alignment.ts';
import type { StreamWriter } from './stream-writer.ts';

const publisherKey = 'ai-sdk-absurd:stream-publisher';

export class TaskStreamPublisher {
  private readonly writer: StreamWriter;
  private readonly loaded: Promise<{ alignment: StreamReplayAlignment; hasStart: boolean }>;

  /** The publisher of this execution of `task`'s handler; the first call loads what earlier attempts stored. */
  static of(task: CurrentTask): TaskStreamPublisher {
    let publisher = task.state.get(publisherKey) as TaskStreamPublisher | undefined;
    if (!publisher) {
      publisher = new TaskStreamPublisher(task);
      task.state.set(publisherKey, publisher);
    }
    return publisher;
  }

  private constructor(task: CurrentTask) {
    this.writer = streamWriterOf(task);
    this.loaded = loadStoredAgentChunks(task).then((stored) => {
      const hasStart = stored.some((row) => row.chunk.type === 'start');
      const alignment = new StreamReplayAlignment(stored.filter((row) => row.chunk.type !== 'start'));
      return { alignment, hasStart };
    });
    this.loaded.catch(() => {});
  }

  /**
   * Resolves, once the chunks of earlier attempts are loaded, with the function that writes one chunk an
   * agent produced unless an earlier attempt stored it already. That function throws `InvalidPayloadError`
   * for a chunk that cannot be stored, and the writer's error once a batch failed.
   */
  async ready(): Promise<(chunk: UIMessageChunk) => void> {
    const state = await this.loaded;
    return (chunk) => this.publish(state, chunk);
  }

  private publish(state: { alignment: StreamReplayAlignment; hasStart: boolean }, chunk: UIMessageChunk): void {
    if (chunk.type === 'start') {
      // One message per task stream: later calls, and later attempts, continue it.
      if (state.hasStart) return;
      state.hasStart = true;
      this.writer.write(chunk);
      return;
    }
    const aligned = state.alignment.accept(chunk);
    if (aligned.supersede) this.writer.supersede(aligned.supersede, { resetStep: aligned.resetStep === true });
    for (const write of aligned.write) this.writer.write(write);
  }

  /** Resolves once every chunk published so far is stored. */
  flush(): Promise<void> {
    return this.writer.flush();
  }
}

/** The agent chunks (no `data-*` parts, no `reset-step` of a superseded step) earlier attempts stored, in order. */
async function loadStoredAgentChunks(task: CurrentTask): Promise<StoredChunk[]> {
  const { rows } = await task.absurd.database.query<{ chunk_index: number; chunk: unknown }>(
    `select s.chunk_index, s.chunk from ai_sdk_absurd.stream_chunks s
     where s.queue_name = $1 and s.task_id = $2 and s.chunk->>'type' not like 'data-%'
       and s.chunk->>'type' <> 'reset-step'
     order by s.chunk_index`,
    [task.queueName, task.taskID],
  );
  return rows.map((row) => ({
    index: row.chunk_index,
    chunk: (typeof row.chunk === 'string' ? JSON.parse(row.chunk) : row.chunk) as UIMessageChunk,
  }));
}
