// What a run's tool calls were given and gave back, for the run page: the input from the model call that
// asked for each call (its stored response), the output or error from the tool call's own checkpoint.
import { decodePayload } from '../agent/checkpoint-format.ts';
import type { Queryable } from '../db/database.ts';
import { queueTable } from '../db/queue-table.ts';

export interface ToolCallDetail {
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: unknown;
}

interface Row {
  checkpoint_name: string;
  state: { kind?: string; response?: unknown; value?: unknown; outcome?: string; toolCallId?: string };
}

/** Tool-call checkpoint name → its input and outcome, decoded; undecodable values are left out. */
export async function readToolCallDetails(database: Queryable, queueName: string, taskID: string): Promise<Map<string, ToolCallDetail>> {
  const { rows } = await database.query<Row>(
    `select checkpoint_name, state from ${queueTable('c', queueName)}
     where task_id = $1::uuid and status = 'committed' and state->>'kind' in ('model-call', 'tool-call')`,
    [taskID],
  );
  const inputs = new Map<string, unknown>();
  for (const row of rows) {
    if (row.state.kind !== 'model-call') continue;
    const response = safeDecode(row.state.response, row.checkpoint_name);
    for (const part of toolCallParts(response)) inputs.set(`${row.checkpoint_name}/${part.toolCallId}`, part.input);
  }
  const details = new Map<string, ToolCallDetail>();
  for (const row of rows) {
    if (row.state.kind !== 'tool-call') continue;
    const modelCall = row.checkpoint_name.replace(/\/tool:[^/]*$/, '');
    const value = safeDecode(row.state.value, row.checkpoint_name);
    const input = inputs.get(`${modelCall}/${row.state.toolCallId}`);
    details.set(row.checkpoint_name, {
      ...(input === undefined ? {} : { input }),
      ...(row.state.outcome === 'error' ? { error: describeError(value) } : { output: value }),
    });
  }
  return details;
}

function safeDecode(payload: unknown, stepName: string): unknown {
  try {
    return decodePayload(payload, stepName);
  } catch {
    return undefined;
  }
}

/** Tool-call parts of a stored generate result (`content`) or stream (`parts`), wherever they sit. */
function toolCallParts(response: unknown): Array<{ toolCallId: string; input: unknown }> {
  const found: Array<{ toolCallId: string; input: unknown }> = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 4 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    if (record.type === 'tool-call' && typeof record.toolCallId === 'string') {
      found.push({ toolCallId: record.toolCallId, input: parseInput(record.input) });
      return;
    }
    for (const key of ['content', 'parts', 'stream']) if (key in record) visit(record[key], depth + 1);
  };
  visit(response, 0);
  return found;
}

function parseInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

function describeError(value: unknown): unknown {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return value;
}
