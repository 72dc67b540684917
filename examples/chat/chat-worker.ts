// The chat's worker: registers the `chat` task with its model and works the `chat` queue.
import type { Absurd } from '../../src/index.ts';
import { openChatModel } from './chat-model.ts';
import { registerChatTask } from './chat-task.ts';

export interface ChatWorker {
  /** Which model answers. */
  readonly model: string;
  close(): Promise<void>;
}

export async function startChatWorker(absurd: Absurd): Promise<ChatWorker> {
  const model = await openChatModel();
  registerChatTask(absurd, model.model);
  // A short lease: a killed worker's turn is picked up by another worker within this many seconds.
  const claimTimeout = Number(process.env.CHAT_CLAIM_TIMEOUT ?? 15);
  const worker = await absurd.startWorker({ concurrency: 4, claimTimeout });
  return {
    model: model.description,
    async close() {
      await worker.close();
      await model.close();
    },
  };
}
