// One interface over the two test MCP servers, so every MCP suite runs against stdio and Streamable HTTP
// alike: a client factory that counts how often it is called, and the server's view of the traffic.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMCPClient, type MCPClient } from '@ai-sdk/mcp';
import { StdioMCPTransport } from '@ai-sdk/mcp/mcp-stdio';
import { startMcpHttpServer } from './mcp-http-server.ts';
import { mcpStdioServerPath, readMcpStdioLog } from './mcp-stdio-server.ts';
import type { McpTrafficEntry } from './mcp-test-server.ts';

export type McpTransportKind = 'stdio' | 'http';

export interface McpFixture {
  readonly kind: McpTransportKind;
  /** Creates a connected client, as a user's `durableMCPClient({ client })` factory would. */
  createClient(): Promise<MCPClient>;
  /** How often `createClient` has been called. */
  readonly clientsCreated: number;
  /** JSON-RPC messages the server received so far. */
  traffic(): McpTrafficEntry[];
  /** Side effects `record_visit` performed so far. */
  visits(): string[];
  /**
   * Connections the server saw: stdio server processes started, or HTTP requests. Zero growth means
   * nothing reached the server at all.
   */
  connections(): number;
  close(): Promise<void>;
}

export async function startMcpFixture(kind: McpTransportKind): Promise<McpFixture> {
  return kind === 'http' ? startHttpFixture() : startStdioFixture();
}

async function startHttpFixture(): Promise<McpFixture> {
  const server = await startMcpHttpServer();
  let clientsCreated = 0;
  return {
    kind: 'http',
    createClient() {
      clientsCreated++;
      return createMCPClient({ transport: { type: 'http', url: server.url }, clientName: 'weather-app' });
    },
    get clientsCreated() {
      return clientsCreated;
    },
    traffic: () => [...server.traffic],
    visits: () => [...server.visits],
    connections: () => server.httpRequests,
    close: () => server.close(),
  };
}

async function startStdioFixture(): Promise<McpFixture> {
  const directory = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-mcp-'));
  const logFile = join(directory, 'traffic.jsonl');
  const clients: MCPClient[] = [];
  let clientsCreated = 0;
  return {
    kind: 'stdio',
    async createClient() {
      clientsCreated++;
      const transport = new StdioMCPTransport({
        command: process.execPath,
        args: [mcpStdioServerPath],
        env: { MCP_TEST_LOG: logFile },
      });
      const client = await createMCPClient({ transport, clientName: 'weather-app' });
      clients.push(client);
      return client;
    },
    get clientsCreated() {
      return clientsCreated;
    },
    traffic: () => readMcpStdioLog(logFile).traffic,
    visits: () => readMcpStdioLog(logFile).visits,
    connections: () => readMcpStdioLog(logFile).starts,
    async close() {
      // Clients the code under test forgot to close would keep server processes alive.
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      await rm(directory, { recursive: true, force: true });
    },
  };
}
