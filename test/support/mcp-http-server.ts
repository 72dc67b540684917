// The test MCP server over Streamable HTTP, in this process. Stateless: every HTTP request gets a fresh
// server and transport, while the traffic log and the side-effect counter are shared.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { connectCounting, createMcpTestServer, type McpServerState, type McpTrafficEntry } from './mcp-test-server.ts';

export interface McpHttpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:4321/mcp`. */
  readonly url: string;
  /** Every JSON-RPC message received, in order. */
  readonly traffic: readonly McpTrafficEntry[];
  /** HTTP requests received (any method). */
  readonly httpRequests: number;
  /** Side effects performed by `record_visit`. */
  readonly visits: readonly string[];
  close(): Promise<void>;
}

export async function startMcpHttpServer(): Promise<McpHttpServer> {
  const traffic: McpTrafficEntry[] = [];
  const visits: string[] = [];
  let httpRequests = 0;
  const state: McpServerState = {
    record: (entry) => traffic.push(entry),
    recordVisit: (visitor) => visits.push(visitor),
  };
  const server = createServer(async (request, response) => {
    httpRequests++;
    if ((request.url ?? '').split('?')[0] !== '/mcp') {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = request.method === 'POST' ? JSON.parse(await readBody(request)) : undefined;
      const mcpServer = createMcpTestServer(state);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      response.on('close', () => {
        void transport.close();
        void mcpServer.close();
      });
      await connectCounting(mcpServer, transport, state);
      await transport.handleRequest(request, response, body);
    } catch (error) {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    traffic,
    get httpRequests() {
      return httpRequests;
    },
    visits,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
