// The chat's web process: builds the page, then serves it and the chat routes on HOST:PORT (127.0.0.1:3000).
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Absurd } from '../../src/index.ts';
import { chatRoutes } from './chat-routes.ts';
import { ChatStore } from './chat-store.ts';
import { buildPage } from './page-bundle.ts';

export interface ChatWeb {
  readonly url: string;
  close(): Promise<void>;
}

export async function startChatWeb(absurd: Absurd): Promise<ChatWeb> {
  const store = new ChatStore(absurd.database);
  await store.prepare();
  const app = chatRoutes({ absurd, store, page: await buildPage() });
  const hostname = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 3000);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname, port }, () => resolve(started));
    started.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Open answer streams would keep the server up; their readers resume elsewhere.
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
