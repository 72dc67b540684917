// The chat's web process alone: `ABSURD_DATABASE_URL=postgres://… node examples/chat/web.ts`.
import { closeOnSignal, openChatAbsurd, requireSharedDatabase } from './chat-client.ts';
import { startChatWeb } from './chat-web.ts';

requireSharedDatabase('web');
const absurd = await openChatAbsurd();
const web = await startChatWeb(absurd);
console.log(`Chat listening on ${web.url}`);

closeOnSignal(async () => {
  await web.close();
  await absurd.close();
});
