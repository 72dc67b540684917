// Everything about a set of MCP tools that the model or the agent loop can observe, as comparable data:
// descriptions, titles, metadata, the exact JSON schema text (key order included), and what
// `toModelOutput` makes of typical outputs.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { chartPngBase64 } from './mcp-test-server.ts';

const sampleOutputs: unknown[] = [
  { content: [{ type: 'text', text: 'hello' }] },
  { content: [{ type: 'image', data: chartPngBase64, mimeType: 'image/png' }] },
  { isError: true, content: [{ type: 'text', text: 'failed' }] } satisfies CallToolResult,
  'plain text',
];

export async function snapshotTools(tools: Record<string, unknown>): Promise<Record<string, unknown>> {
  const snapshot: Record<string, unknown> = {};
  for (const name of Object.keys(tools).sort()) {
    const tool = tools[name] as {
      type?: string;
      description?: string;
      title?: string;
      metadata?: unknown;
      _meta?: unknown;
      inputSchema: { jsonSchema: unknown };
      execute?: unknown;
      toModelOutput?: (options: { toolCallId: string; input: unknown; output: unknown }) => unknown;
    };
    snapshot[name] = {
      keys: Object.keys(tool).sort(),
      type: tool.type,
      description: tool.description,
      title: tool.title,
      metadata: tool.metadata,
      meta: tool._meta,
      inputSchemaText: JSON.stringify(await tool.inputSchema.jsonSchema),
      executes: typeof tool.execute === 'function',
      modelOutputs: await Promise.all(
        sampleOutputs.map((output) => tool.toModelOutput?.({ toolCallId: 'call-1', input: {}, output })),
      ),
    };
  }
  return snapshot;
}
