// The MCP server the MCP suites talk to, built on the real `@modelcontextprotocol/sdk`. It records every
// JSON-RPC message it receives (initialize, tools/list, tools/call, notifications), so a test can assert
// that a replayed run sent nothing at all, and counts the side effects of its one side-effecting tool.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';

/** One message the server received. */
export interface McpTrafficEntry {
  readonly method: string;
  /** For tools/call, the tool called. */
  readonly tool?: string;
}

/** What every connection of one logical server shares: the traffic log and the side-effect counter. */
export interface McpServerState {
  record(entry: McpTrafficEntry): void;
  /** Performs the side effect of `record_visit` and returns its sequence number. */
  recordVisit(visitor: string): number;
}

export const mcpServerInstructions =
  'This server answers weather questions. Call forecast before answering, record_visit once per conversation, ' +
  'and render_chart when the user wants a picture.';

/** Tools listed per tools/list page, so listing all tools takes more than one request. */
export const mcpToolsPageSize = 2;

/** A 1x1 transparent PNG. */
export const chartPngBase64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const forecastDescription = [
  'Returns the weather forecast for a city, day by day, for up to fourteen days ahead.',
  'Each day reports the high and low temperature in the requested unit, the chance of precipitation,',
  'the expected wind speed and direction, and a one-line summary suitable for reading aloud.',
  'Use it whenever the user asks about weather, temperature, rain, snow, wind or what to wear;',
  'never guess the weather from memory. When the user names several cities, call it once per city.',
  'Coordinates, when given, take precedence over the city name, which then only labels the answer.',
].join(' ');

export const mcpTestTools: Tool[] = [
  {
    name: 'forecast',
    title: 'Weather forecast',
    description: forecastDescription,
    inputSchema: {
      type: 'object',
      properties: {
        city: { type: 'string', minLength: 1, description: 'City name, e.g. "Vienna" or "San Francisco, CA".' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'], default: 'celsius', description: 'Temperature unit.' },
        days: { type: 'integer', minimum: 1, maximum: 14, default: 3 },
        include: {
          type: 'array',
          items: { type: 'string', enum: ['precipitation', 'wind', 'summary'] },
          uniqueItems: true,
        },
        location: {
          type: 'object',
          properties: { latitude: { type: 'number', minimum: -90, maximum: 90 }, longitude: { type: 'number' } },
          required: ['latitude', 'longitude'],
        },
      },
      required: ['city'],
    },
    annotations: { readOnlyHint: true, openWorldHint: true },
    _meta: { 'example.com/cost': 'free' },
  },
  {
    name: 'record_visit',
    description: 'Records that a visitor used the weather service. Every call adds one visit.',
    inputSchema: { type: 'object', properties: { visitor: { type: 'string' } }, required: ['visitor'] },
    annotations: { destructiveHint: false, idempotentHint: false },
  },
  {
    name: 'lookup_station',
    description: 'Looks up a weather station by its code.',
    inputSchema: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'] },
  },
  {
    name: 'render_chart',
    description: 'Renders a temperature chart for a city as a PNG image.',
    inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
];

function forecast(args: Record<string, unknown>): CallToolResult {
  const city = String(args.city ?? '');
  const unit = args.unit === 'fahrenheit' ? 'F' : 'C';
  const high = unit === 'F' ? 72 : 22;
  return {
    content: [{ type: 'text', text: `${city}: sunny, high ${high}${unit}.` }],
    structuredContent: { city, high, unit },
  };
}

/** A server for one connection (stdio) or one request (stateless Streamable HTTP). */
export function createMcpTestServer(state: McpServerState): Server {
  const server = new Server(
    { name: 'weather-test-server', version: '1.0.0' },
    { capabilities: { tools: {} }, instructions: mcpServerInstructions },
  );
  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    const start = Number(request.params?.cursor ?? 0);
    const end = start + mcpToolsPageSize;
    return {
      tools: mcpTestTools.slice(start, end),
      ...(end < mcpTestTools.length ? { nextCursor: String(end) } : {}),
    };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    switch (request.params.name) {
      case 'forecast':
        return forecast(args);
      case 'record_visit': {
        const visit = state.recordVisit(String(args.visitor ?? 'anonymous'));
        return { content: [{ type: 'text', text: `Visit #${visit} recorded for ${String(args.visitor)}.` }] };
      }
      case 'lookup_station':
        return { isError: true, content: [{ type: 'text', text: `No station with code ${String(args.code)}.` }] };
      case 'render_chart':
        return {
          content: [
            { type: 'text', text: `Chart for ${String(args.city)}:` },
            { type: 'image', data: chartPngBase64, mimeType: 'image/png' },
          ],
        };
      default:
        return { isError: true, content: [{ type: 'text', text: `Unknown tool ${request.params.name}.` }] };
    }
  });
  return server;
}

/** Connects `server` to `transport` and records every message that arrives on it. */
export async function connectCounting(server: Server, transport: Transport, state: McpServerState): Promise<void> {
  await server.connect(transport);
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ('method' in message) {
      const params = (message as { params?: { name?: unknown } }).params;
      state.record({
        method: message.method,
        ...(message.method === 'tools/call' && typeof params?.name === 'string' ? { tool: params.name } : {}),
      });
    }
    deliver?.(message, extra);
  };
}
