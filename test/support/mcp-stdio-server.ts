// The test MCP server over stdio, run as a child process by `@ai-sdk/mcp`'s stdio transport. It appends
// one JSON line per event to the file named by MCP_TEST_LOG: a "start" line per process, one line per
// JSON-RPC message received and one per side effect, so the test process can count all three.
import { appendFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { connectCounting, createMcpTestServer, type McpTrafficEntry } from './mcp-test-server.ts';

/** The path to run with `node` as the server process. */
export const mcpStdioServerPath = fileURLToPath(import.meta.url);

type LogLine = { kind: 'start' } | ({ kind: 'message' } & McpTrafficEntry) | { kind: 'visit'; visitor: string };

export interface McpStdioLog {
  /** Server processes started. */
  starts: number;
  traffic: McpTrafficEntry[];
  visits: string[];
}

/** Reads what the server processes writing to `logFile` have recorded so far. */
export function readMcpStdioLog(logFile: string): McpStdioLog {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    // No process has started yet.
  }
  const log: McpStdioLog = { starts: 0, traffic: [], visits: [] };
  for (const line of text.split('\n')) {
    if (!line) continue;
    const entry = JSON.parse(line) as LogLine;
    if (entry.kind === 'start') log.starts++;
    else if (entry.kind === 'visit') log.visits.push(entry.visitor);
    else log.traffic.push(entry.tool === undefined ? { method: entry.method } : { method: entry.method, tool: entry.tool });
  }
  return log;
}

async function main(logFile: string): Promise<void> {
  const write = (line: LogLine) => appendFileSync(logFile, `${JSON.stringify(line)}\n`);
  write({ kind: 'start' });
  const state = {
    record: (entry: McpTrafficEntry) => write({ kind: 'message', ...entry }),
    recordVisit: (visitor: string) => {
      write({ kind: 'visit', visitor });
      return readMcpStdioLog(logFile).visits.length;
    },
  };
  await connectCounting(createMcpTestServer(state), new StdioServerTransport(), state);
}

if (process.argv[1] === mcpStdioServerPath) {
  const logFile = process.env.MCP_TEST_LOG;
  if (!logFile) {
    process.stderr.write('MCP_TEST_LOG must name the file to log to.\n');
    process.exit(2);
  }
  await main(logFile);
}
