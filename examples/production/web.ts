import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Absurd } from '../../src/index.ts';

const absurd = new Absurd({ db: process.env.ABSURD_DATABASE_URL, queueName: 'analysis' });
await absurd.createQueue(); // idempotent; `npx ai-sdk-absurd init` in the deploy pipeline does the same

createServer((request, response) => {
  handle(request, response).catch((error: Error) => send(response, 500, { error: error.message }));
}).listen(Number(process.env.PORT ?? 3000));

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method === 'POST' && url.pathname === '/analyses') {
    const { question } = JSON.parse(await readBody(request)) as { question: string };
    // A client that retries the request sends the same key and gets the same task.
    const key = request.headers['idempotency-key'];
    const { taskID } = await absurd.spawn(
      'analyse',
      { question },
      { queue: 'analysis', idempotencyKey: typeof key === 'string' ? key : undefined },
    );
    return send(response, 202, { taskID });
  }
  const match = /^\/analyses\/([0-9a-f-]{36})$/.exec(url.pathname);
  if (request.method === 'GET' && match?.[1]) {
    const snapshot = await absurd.fetchTaskResult(match[1]);
    return send(response, snapshot ? 200 : 404, snapshot ?? { error: 'no such task' });
  }
  send(response, 404, { error: 'not found' });
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
