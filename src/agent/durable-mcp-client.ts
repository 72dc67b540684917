// MCP servers as durable tool sources. The tool listing (descriptions, JSON schemas, server
// instructions) is one checkpoint per task, so a replayed run offers the model exactly the tools
// the first run offered, and the MCP client connects only when something live is needed: a fully
// replayed run never opens a connection. Tool *calls* are checkpointed by `durableTools`, like any
// other tool; the tools returned here only make sure that calling one connects on demand.
import type { MCPClient, MCPTransport } from '@ai-sdk/mcp';
import type { StepHandle } from 'absurd-sdk';
import { getCurrentTask, type CurrentTask } from '../client/current-task.ts';
import { decodeCheckpoint, encodeCheckpoint, type JsonValue } from '../codec/checkpoint-codec.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import type { MCPToolListingCheckpoint } from './checkpoint-format.ts';
import { enclosingScope } from './run-scope.ts';
import { mcpToolListingStepName, validateScopeName } from '../steps/step-names.ts';

/**
 * An MCP client as `durableMCPClient` uses it: what `@ai-sdk/mcp`'s `createMCPClient()` resolves to. It is
 * described here rather than imported, so that applications without `@ai-sdk/mcp` (an optional peer) still
 * type-check against this package; `tools` keeps the client's own, fully typed signature.
 */
export interface MCPClientConnection {
  tools(options?: { schemas?: any }): Promise<Record<string, unknown>>;
  listTools(options?: { params?: { cursor?: string } }): Promise<{ tools: readonly unknown[]; nextCursor?: string }>;
  readonly instructions?: string;
  close(): Promise<void>;
}

export interface DurableMCPClientOptions<CLIENT extends MCPClientConnection = MCPClientConnection> {
  /** Names this server in checkpoints (`mcp:<name>/tools`); keep it stable across deployments. */
  name: string;
  /**
   * Creates a connected client, e.g. `() => createMCPClient({ transport })`. Called lazily, the first
   * time a listing or a tool call must go to the server, and again after `close()` or a lost connection.
   */
  client: () => CLIENT | Promise<CLIENT>;
}

export interface DurableMCPClient<CLIENT extends MCPClientConnection = MCPClientConnection> {
  readonly name: string;
  /**
   * The server's tools, listed once per task and checkpointed (all pages, full descriptions and
   * JSON schemas). Takes the same `schemas` option as `MCPClient.tools()`. Throws NotInTaskError
   * outside an Absurd task. Wrap the result with `durableTools` (AbsurdAgent does) so each call is
   * checkpointed too.
   */
  tools: CLIENT['tools'];
  /** The instructions the server sent at initialization, from the same checkpoint as `tools()`. */
  instructions(): Promise<string | undefined>;
  /** Closes the live connection, if one was opened; a later live call reconnects. */
  close(): Promise<void>;
}

/** What the listing checkpoint holds. JSON text keeps schema key order, which jsonb would not. */
interface ServerListing {
  /** `ListToolsResult` with every page's tools, as JSON text. */
  definitions: string;
  instructions: string | null;
  /** The server's `InitializeResult`, as JSON text; it lets tools be built again without connecting. */
  initializeResult: string;
  /** The client name tool metadata carries (`toolMetadata.clientName`). */
  clientName: string | null;
  toolCount: number;
}

/** The stored step: summary fields in plain JSON for timelines, the listing in a codec envelope. */
type ListingCheckpoint = MCPToolListingCheckpoint & { readonly listing: JsonValue };

type ListToolsResult = Awaited<ReturnType<MCPClient['listTools']>>;
type ToolsOptions = Parameters<MCPClient['tools']>[0];
/** The AI SDK's tool execution options, passed through untouched. */
type ExecutionOptions = { abortSignal?: AbortSignal };

/** One call of a recorded MCP tool, with what a live client needs to build that tool again from the listing. */
interface RecordedToolCall {
  readonly definitions: ListToolsResult;
  readonly toolsOptions: ToolsOptions;
  readonly toolName: string;
  readonly input: unknown;
  readonly executionOptions: ExecutionOptions;
}

/** Wraps an MCP client factory so its tool listing is checkpointed and its connection is made on demand. */
export function durableMCPClient<CLIENT extends MCPClientConnection>(options: DurableMCPClientOptions<CLIENT>): DurableMCPClient<CLIENT> {
  const name = validateScopeName(options.name, 'durableMCPClient.name', 'Pass durableMCPClient({ name: "github", client }).');
  if (typeof options.client !== 'function') {
    throw new ConfigurationError({
      setting: 'durableMCPClient.client',
      message: 'durableMCPClient({ client }) takes a function that creates the client, e.g. () => createMCPClient({ transport }).',
    });
  }
  const connection = new LazyConnection(options.client as unknown as () => MCPClient | Promise<MCPClient>);

  async function listing(operation: string): Promise<ServerListing> {
    const task = getCurrentTask();
    if (!task) throw new NotInTaskError({ operation: `durableMCPClient("${name}").${operation}` });
    return loadListing(task, mcpToolListingStepName(name, enclosingScope.getStore()), name, connection);
  }

  async function tools(toolsOptions?: ToolsOptions) {
    const recorded = await listing('tools()');
    const definitions = JSON.parse(recorded.definitions) as ListToolsResult;
    const offline = await offlineClient(recorded);
    try {
      const built = offline.toolsFromDefinitions(definitions, toolsOptions) as Record<string, Record<string, unknown>>;
      const result: Record<string, unknown> = Object.create(null);
      for (const [toolName, definition] of Object.entries(built)) {
        result[toolName] = {
          ...definition,
          // The tool as the live client builds it, so arguments, errors and structured output behave as in
          // @ai-sdk/mcp; only the connection is deferred to the first call.
          execute: (input: unknown, executionOptions: ExecutionOptions) =>
            connection.callTool({ definitions, toolsOptions, toolName, input, executionOptions }),
        };
      }
      return result as Awaited<ReturnType<MCPClient['tools']>>;
    } finally {
      await offline.close();
    }
  }

  return {
    name,
    tools: tools as unknown as CLIENT['tools'],
    async instructions() {
      return (await listing('instructions()')).instructions ?? undefined;
    },
    close: () => connection.close(),
  };
}

/** One listing per checkpoint name and task execution, shared by `tools()` and `instructions()`. */
function loadListing(task: CurrentTask, stepName: string, name: string, connection: LazyConnection): Promise<ServerListing> {
  const key = `ai-sdk-absurd:mcp-listing:${stepName}`;
  let pending = task.state.get(key) as Promise<ServerListing> | undefined;
  if (!pending) {
    pending = readOrRecordListing(task, stepName, name, connection);
    task.state.set(key, pending);
    // A failed listing may be tried again in the same execution; it reuses the reserved step handle.
    pending.catch(() => {
      if (task.state.get(key) === pending) task.state.delete(key);
    });
  }
  return pending;
}

async function readOrRecordListing(
  task: CurrentTask,
  stepName: string,
  name: string,
  connection: LazyConnection,
): Promise<ServerListing> {
  const handleKey = `ai-sdk-absurd:mcp-listing-handle:${stepName}`;
  let handle = task.state.get(handleKey) as StepHandle<unknown> | undefined;
  if (!handle) {
    handle = await task.ctx.beginStep<unknown>(stepName);
    task.state.set(handleKey, handle);
  }
  if (handle.done) {
    const recorded = handle.state as Partial<ListingCheckpoint> | null;
    return decodeCheckpoint(recorded?.listing, { stepName }) as ServerListing;
  }
  const startedAt = new Date();
  const listing = await listLive(await connection.get(), name);
  const checkpoint: ListingCheckpoint = {
    kind: 'mcp-tool-listing',
    clientName: name,
    toolCount: listing.toolCount,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    listing: encodeCheckpoint(listing, { stepName, subject: `MCP server "${name}"` }),
  };
  await task.ctx.completeStep(handle, checkpoint);
  return decodeCheckpoint(checkpoint.listing, { stepName }) as ServerListing;
}

async function listLive(client: MCPClient, name: string): Promise<ServerListing> {
  let page = await client.listTools();
  const tools = [...page.tools];
  const cursors = new Set<string>();
  while (page.nextCursor != null) {
    if (cursors.has(page.nextCursor)) {
      throw new Error(`MCP server "${name}" returned the tools/list cursor "${page.nextCursor}" twice; its pagination loops.`);
    }
    cursors.add(page.nextCursor);
    page = await client.listTools({ params: { cursor: page.nextCursor } });
    tools.push(...page.tools);
  }
  const { nextCursor: _lastCursor, ...lastPage } = page;
  const definitions: ListToolsResult = { ...lastPage, tools };
  const sample = Object.values(client.toolsFromDefinitions({ ...definitions, tools: tools.slice(0, 1) }))[0] as
    | { metadata?: { clientName?: unknown } }
    | undefined;
  const clientName = sample?.metadata?.clientName;
  return {
    definitions: JSON.stringify(definitions),
    instructions: client.instructions ?? null,
    initializeResult: JSON.stringify(client.initializeResult),
    clientName: typeof clientName === 'string' ? clientName : null,
    toolCount: tools.length,
  };
}

/**
 * A client that never connects: given the recorded initialize result, `@ai-sdk/mcp` builds the very
 * tools (schemas, metadata, `toModelOutput`) the live client would, without a server.
 */
async function offlineClient(listing: ServerListing): Promise<MCPClient> {
  const { createMCPClient } = await import('@ai-sdk/mcp');
  const transport: MCPTransport = {
    async start() {},
    async send() {
      throw new Error('This MCP client only builds tools from a checkpointed listing; it has no connection.');
    },
    async close() {},
  };
  return createMCPClient({
    transport,
    initialInitializeResult: JSON.parse(listing.initializeResult),
    ...(listing.clientName === null ? {} : { clientName: listing.clientName }),
  });
}

/** The live client, created by the user's factory on first need and shared by every task in this process. */
class LazyConnection {
  private readonly factory: () => MCPClient | Promise<MCPClient>;
  private client: Promise<MCPClient> | undefined;

  constructor(factory: () => MCPClient | Promise<MCPClient>) {
    this.factory = factory;
  }

  get(): Promise<MCPClient> {
    if (!this.client) {
      const created = Promise.resolve().then(this.factory);
      this.client = created;
      created.catch(() => {
        if (this.client === created) this.client = undefined;
      });
    }
    return this.client;
  }

  async callTool(call: RecordedToolCall): Promise<unknown> {
    call.executionOptions?.abortSignal?.throwIfAborted();
    const pending = this.get();
    try {
      return await this.execute(await pending, call);
    } catch (error) {
      if (!isClosedConnection(error)) throw error;
      if (this.client === pending) this.client = undefined;
      // A closed client refuses before sending anything, so the call can go to a new connection.
      // A connection lost mid-call is not retried here: the server may have run the tool.
      if (!isRefusedBeforeSending(error)) throw error;
      return this.execute(await this.get(), call);
    }
  }

  private async execute(client: MCPClient, call: RecordedToolCall): Promise<unknown> {
    // Built from the recorded definitions, so the live client knows the same tools (and any
    // per-tool request headers) without listing them again.
    const live = client.toolsFromDefinitions(call.definitions, call.toolsOptions) as Record<string, { execute?: Function }>;
    const execute = live[call.toolName]?.execute;
    if (!execute) throw new Error(`MCP tool "${call.toolName}" is missing from the recorded listing.`);
    return await execute(call.input, call.executionOptions);
  }

  async close(): Promise<void> {
    const pending = this.client;
    this.client = undefined;
    if (!pending) return;
    const client = await pending.catch(() => undefined);
    await client?.close();
  }
}

// @ai-sdk/mcp reports both cases as MCPClientError; only the message tells them apart.
function isClosedConnection(error: unknown): boolean {
  return error instanceof Error && error.name === 'MCPClientError' && /closed client|connection closed/i.test(error.message);
}

function isRefusedBeforeSending(error: unknown): boolean {
  return error instanceof Error && /attempted to send a request from a closed client/i.test(error.message);
}
