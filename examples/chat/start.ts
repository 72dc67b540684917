// The chat example in one process, web and worker together: `node examples/chat/start.ts`, then open
// http://127.0.0.1:3000. Its data stays in ./.data/chat (embedded PGlite) unless ABSURD_DATABASE_URL names another
// database. With Postgres, run web.ts and worker.ts as separate processes instead (see README.md).
import { closeOnSignal, openChatAbsurd } from './chat-client.ts';
import { startChatWeb } from './chat-web.ts';
import { startChatWorker } from './chat-worker.ts';

const absurd = await openChatAbsurd('pglite:./.data/chat');
const web = await startChatWeb(absurd);
console.log(`Chat listening on ${web.url}`);
const worker = await startChatWorker(absurd);
console.log(`Chat worker ready: ${worker.model}`);

closeOnSignal(async () => {
  await web.close();
  await worker.close();
  await absurd.close();
});
