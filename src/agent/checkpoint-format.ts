// The shape of what the agent layer stores in each Absurd checkpoint. The summary fields sit in plain
// JSON beside the payload, so tools that print a run's timeline read them without decoding.
//
// The payload (a codec envelope) is stored as JSON text, not as a jsonb object: jsonb reorders object
// keys, and key order is observable. The AI SDK sends `JSON.stringify(toolOutput)` to the model, so a
// replayed tool output with reordered keys would change the prompt of every later model call.
import { decodeCheckpoint, encodeCheckpoint, type EncodeCheckpointOptions } from '../codec/checkpoint-codec.ts';
import { CheckpointCodecError } from '../errors/checkpoint-codec-error.ts';

/** Encodes `value` with the checkpoint codec into the JSON text a record stores. */
export function encodePayload(value: unknown, options: EncodeCheckpointOptions): string {
  return JSON.stringify(encodeCheckpoint(value, options));
}

/** Decodes a payload written by `encodePayload`. */
export function decodePayload(payload: unknown, stepName: string): unknown {
  let envelope = payload;
  if (typeof payload === 'string') {
    try {
      envelope = JSON.parse(payload);
    } catch (error) {
      throw new CheckpointCodecError({
        message: `Checkpoint "${stepName}" is malformed: its payload is not JSON text. The stored row was changed by something other than this library.`,
        path: '',
        stepName,
        cause: error,
      });
    }
  }
  return decodeCheckpoint(envelope, { stepName });
}

/** One model call (`doGenerate` or `doStream`) and the response it produced. */
export interface ModelCallCheckpoint {
  readonly kind: 'model-call';
  readonly call: 'generate' | 'stream';
  /** Digest of the request (prompt, tools, tool choice, model, settings); compared on replay. */
  readonly fingerprint: string;
  readonly provider: string;
  readonly modelId: string;
  /** ISO time the first attempt started. */
  readonly startedAt: string;
  readonly durationMs: number;
  /** Provider calls made, counting retries of retryable errors. */
  readonly attempts: number;
  readonly finishReason: string | null;
  /**
   * Tokens the provider reported: input and output totals, the reasoning tokens among the output, and the
   * input tokens read from (cached) or written to the provider's prompt cache. Null where not reported.
   */
  readonly usage: ModelCallUsage;
  /** The response as payload text: a `doGenerate` result, or the stream parts and response info. */
  readonly response: string;
}

/** The token counts of one model call, as its checkpoint keeps them. */
export interface ModelCallUsage {
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
  readonly reasoningTokens?: number | null;
  readonly cachedInputTokens?: number | null;
  readonly cacheWriteTokens?: number | null;
}

/** One tool execution and its outcome. */
export interface ToolCallCheckpoint {
  readonly kind: 'tool-call';
  readonly toolName: string;
  readonly toolCallId: string;
  /** Digest of the tool input; compared on replay. */
  readonly inputDigest: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly outcome: 'ok' | 'error';
  /** The output, or the thrown error, as payload text. */
  readonly value: string;
}

/** An MCP client's tool listing (written by the durable MCP client). */
export interface MCPToolListingCheckpoint {
  readonly kind: 'mcp-tool-listing';
  readonly clientName: string;
  readonly toolCount: number;
  readonly startedAt: string;
  readonly durationMs: number;
}

/** @deprecated Renamed to `MCPToolListingCheckpoint` (one casing of MCP across the API); this alias goes in the next minor version. */
export type McpToolListingCheckpoint = MCPToolListingCheckpoint;

export type CheckpointDescription =
  | {
      readonly type: 'model-call';
      readonly name: string;
      readonly call: 'generate' | 'stream';
      readonly provider: string;
      readonly modelId: string;
      readonly finishReason: string | null;
      readonly usage: { readonly inputTokens: number | null; readonly outputTokens: number | null };
      readonly attempts: number;
      readonly startedAt: string;
      readonly durationMs: number;
    }
  | {
      readonly type: 'tool-call';
      readonly name: string;
      readonly toolName: string;
      readonly toolCallId: string;
      readonly outcome: 'ok' | 'error';
      /** `Name: message` of the recorded error, when the tool threw. */
      readonly error?: string;
      readonly startedAt: string;
      readonly durationMs: number;
    }
  | {
      readonly type: 'mcp-tool-listing';
      readonly name: string;
      readonly clientName: string;
      readonly toolCount: number | null;
      readonly startedAt: string | null;
      readonly durationMs: number | null;
    }
  | {
      readonly type: 'approval';
      readonly name: string;
      readonly toolCallId: string;
      /** requested: the call was recorded for a person; delivered: the decision woke the task; decided: it stands. */
      readonly phase: 'requested' | 'delivered' | 'decided';
      readonly toolName?: string;
      readonly approved?: boolean;
      readonly reason?: string | null;
      readonly decidedBy?: 'person' | 'timeout';
      readonly decidedAt?: string;
    }
  | { readonly type: 'other'; readonly name: string };

/**
 * Classifies a stored checkpoint (its name and its jsonb state) for display: a model call with usage,
 * finish reason, model and duration; a tool call with its outcome; an MCP tool listing; or other.
 */
export function describeCheckpoint(name: string, state: unknown): CheckpointDescription {
  const record = isRecord(state) ? state : undefined;
  const kind = record?.kind;
  if (kind === 'model-call' && record) {
    const usage = isRecord(record.usage) ? record.usage : {};
    return {
      type: 'model-call',
      name,
      call: record.call === 'stream' ? 'stream' : 'generate',
      provider: text(record.provider) ?? 'unknown',
      modelId: text(record.modelId) ?? 'unknown',
      finishReason: text(record.finishReason) ?? null,
      usage: { inputTokens: count(usage.inputTokens), outputTokens: count(usage.outputTokens) },
      attempts: count(record.attempts) ?? 1,
      startedAt: text(record.startedAt) ?? '',
      durationMs: count(record.durationMs) ?? 0,
    };
  }
  if (kind === 'tool-call' && record) {
    const outcome = record.outcome === 'error' ? 'error' : 'ok';
    return {
      type: 'tool-call',
      name,
      toolName: text(record.toolName) ?? 'unknown',
      toolCallId: text(record.toolCallId) ?? 'unknown',
      outcome,
      ...(outcome === 'error' ? { error: describeError(name, record.value) } : {}),
      startedAt: text(record.startedAt) ?? '',
      durationMs: count(record.durationMs) ?? 0,
    };
  }
  const approval = /\/approval:(.+)\/(request|event|decision)$/.exec(name);
  if (approval) {
    const phase = approval[2] === 'request' ? 'requested' : approval[2] === 'event' ? 'delivered' : 'decided';
    return {
      type: 'approval',
      name,
      toolCallId: approval[1]!,
      phase,
      ...(text(record?.toolName) ? { toolName: text(record?.toolName) } : {}),
      ...(typeof record?.approved === 'boolean' ? { approved: record.approved } : {}),
      ...(phase !== 'requested' ? { reason: text(record?.reason) ?? null } : {}),
      ...(record?.decidedBy === 'person' || record?.decidedBy === 'timeout' ? { decidedBy: record.decidedBy } : {}),
      ...(text(record?.decidedAt) ? { decidedAt: text(record?.decidedAt) } : {}),
    };
  }
  const listingName = /(?:^|\/)mcp:([^/]+)\/tools$/.exec(name);
  if (kind === 'mcp-tool-listing' || (kind === undefined && listingName)) {
    return {
      type: 'mcp-tool-listing',
      name,
      clientName: text(record?.clientName) ?? listingName?.[1] ?? 'unknown',
      toolCount: count(record?.toolCount),
      startedAt: text(record?.startedAt) ?? null,
      durationMs: count(record?.durationMs),
    };
  }
  return { type: 'other', name };
}

function describeError(name: string, value: unknown): string {
  try {
    const error = decodePayload(value, name);
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return typeof error === 'string' ? error : JSON.stringify(error);
  } catch {
    return 'unreadable error';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
