// The chat's HTTP routes, as a Hono app (Web Request and Response): the page, `POST /api/chat` that spawns a
// `chat` task and streams its answer, and `GET /api/chat/:chatId/stream` that resumes the answer after a reload
// or a dropped connection (what `AbsurdChatTransport` calls).
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { safeValidateUIMessages, type UIMessage } from 'ai';
import type { Absurd } from '../../src/index.ts';
import type { ChatStore } from './chat-store.ts';
import { chatQueue, type ChatTaskParams } from './chat-task.ts';
import type { PageBundle } from './page-bundle.ts';

const chatIdPattern = /^[A-Za-z0-9_-]{1,100}$/;
const pageHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function chatRoutes(options: { absurd: Absurd; store: ChatStore; page: PageBundle }): Hono {
  const { absurd, store, page } = options;
  const app = new Hono();

  app.get('/', (c) => c.html(page.html, 200, pageHeaders));
  app.get('/assets/chat.js', (c) => c.body(page.script, 200, { ...pageHeaders, 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/assets/chat.css', (c) => c.body(page.styles, 200, { ...pageHeaders, 'content-type': 'text/css; charset=utf-8' }));

  // One turn: spawn the task, remember it as the chat's latest, and answer with its durable stream.
  app.post('/api/chat', bodyLimit({ maxSize: 1024 * 1024, onError: (c) => refuse(c, 413, 'The chat request is larger than 1 MiB.') }), async (c) => {
    const crossSite = crossSiteRefusal(c);
    if (crossSite) return crossSite;
    let body: { id?: unknown; messages?: unknown };
    try {
      body = await c.req.json();
    } catch (error) {
      return refuse(c, 400, `The request body is not JSON: ${(error as Error).message}`);
    }
    if (typeof body?.id !== 'string' || !chatIdPattern.test(body.id)) {
      return refuse(c, 400, 'The chat id must be 1 to 100 letters, digits, "-" or "_".');
    }
    const validated = await safeValidateUIMessages({ messages: body.messages });
    if (!validated.success) return refuse(c, 400, `The messages are not valid UI messages: ${validated.error.message}`);
    const messages = validated.data as UIMessage[];
    if (messages.at(-1)?.role !== 'user') return refuse(c, 400, 'The last message must be the user\'s new message.');
    const params: ChatTaskParams = { messages };
    const { taskID } = await absurd.spawn('chat', params, { queue: chatQueue });
    await store.startTurn(body.id, { taskID, messages });
    return absurd.streamResponse(taskID, { signal: c.req.raw.signal });
  });

  // The conversation a reloaded page starts from: the messages of the chat's latest turn (its answer follows
  // through the stream route).
  app.get('/api/chat/:chatId/messages', async (c) => {
    const chatId = c.req.param('chatId');
    if (!chatIdPattern.test(chatId)) return refuse(c, 400, 'The chat id must be 1 to 100 letters, digits, "-" or "_".');
    const turn = await store.latestTurn(chatId);
    return c.json({ messages: turn?.messages ?? [] });
  });

  // Resume: the latest turn's stream from `startIndex` (0 after a reload, which replays the whole answer once);
  // 204 when the chat has no turn to resume.
  app.get('/api/chat/:chatId/stream', async (c) => {
    const chatId = c.req.param('chatId');
    if (!chatIdPattern.test(chatId)) return refuse(c, 400, 'The chat id must be 1 to 100 letters, digits, "-" or "_".');
    const startIndex = Number(c.req.query('startIndex') ?? '0');
    if (!Number.isSafeInteger(startIndex) || startIndex < 0) return refuse(c, 400, 'startIndex must be an integer >= 0.');
    const turn = await store.latestTurn(chatId);
    if (!turn) return c.body(null, 204);
    return absurd.streamResponse(turn.taskID, { startIndex, signal: c.req.raw.signal });
  });

  return app;
}

/**
 * Refuses a state-changing request another site could have sent: it must be JSON (a cross-site form cannot send
 * that without a CORS preflight, which this server never allows), and a browser's Origin and Sec-Fetch-Site headers,
 * when present, must say it came from this page.
 */
function crossSiteRefusal(c: Context): Response | undefined {
  const contentType = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    return refuse(c, 415, 'Send the chat request as application/json.');
  }
  const fetchSite = c.req.header('sec-fetch-site');
  if (fetchSite && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return refuse(c, 403, 'Cross-site chat requests are refused.');
  }
  const origin = c.req.header('origin');
  if (origin && origin !== new URL(c.req.url).origin) {
    return refuse(c, 403, `Requests from ${origin} are refused; the chat accepts requests from its own page only.`);
  }
  return undefined;
}

function refuse(c: Context, status: 400 | 403 | 413 | 415, message: string): Response {
  return c.text(message, status);
}
