// The chat's worker process alone: `ABSURD_DATABASE_URL=postgres://… node examples/chat/worker.ts`; run as many
// as you like. A killed worker's turn is resumed by another one.
import { closeOnSignal, openChatAbsurd, requireSharedDatabase } from './chat-client.ts';
import { startChatWorker } from './chat-worker.ts';

requireSharedDatabase('worker');
const absurd = await openChatAbsurd();
const worker = await startChatWorker(absurd);
console.log(`Chat worker ready: ${worker.model}`);

closeOnSignal(async () => {
  await worker.close();
  await absurd.close();
});
