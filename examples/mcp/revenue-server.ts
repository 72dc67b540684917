// An MCP server over stdio with two tools: `getRevenue` (reads) and `recordNote` (writes to a notes file). The
// agent in analyse.ts starts it as a child process. Any MCP server works the same way, over stdio or HTTP.
//
//   node examples/mcp/revenue-server.ts     (speaks MCP on stdin/stdout)
import { appendFile } from 'node:fs/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const revenueByQuarter: Record<string, number> = { Q1: 1_200_000, Q2: 1_450_000, Q3: 1_380_000, Q4: 1_720_000 };
const notesFile = process.env.NOTES_FILE ?? 'notes.txt';

const server = new McpServer(
  { name: 'revenue', version: '1.0.0' },
  { instructions: 'Revenue figures by quarter. Look figures up with getRevenue; save findings with recordNote.' },
);

server.registerTool(
  'getRevenue',
  { description: 'Revenue of one quarter of this year, in US dollars.', inputSchema: { quarter: z.string() } },
  async ({ quarter }) => {
    const result = { quarter: quarter.toUpperCase(), revenue: revenueByQuarter[quarter.toUpperCase()] ?? 0 };
    return { content: [{ type: 'text', text: JSON.stringify(result) }] };
  },
);

server.registerTool(
  'recordNote',
  { description: 'Saves a note for the finance team.', inputSchema: { text: z.string() } },
  async ({ text }) => {
    await appendFile(notesFile, `${text}\n`);
    return { content: [{ type: 'text', text: 'saved' }] };
  },
);

await server.connect(new StdioServerTransport());
