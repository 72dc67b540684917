// The agent of the demo, the one the tutorial builds: a revenue analyst with a read-only tool and a tool with a
// side effect (it appends to a notes file), wrapped in AbsurdAgent so each call is a checkpoint. Its schemas are
// plain JSON schemas rather than zod, so the demo needs no extra package.
import { appendFile } from 'node:fs/promises';
import { isStepCount, jsonSchema, tool, type LanguageModel } from 'ai';
import { AbsurdAgent } from '../agent/absurd-agent.ts';
import type { Absurd } from '../client/absurd.ts';
import { emitDemoEvent } from './demo-events.ts';

/** Quarterly revenue the `getRevenue` tool looks up. */
export const quarterlyRevenue: Readonly<Record<string, number>> = { Q1: 1_200_000, Q2: 1_450_000, Q3: 1_380_000, Q4: 1_720_000 };

export const analystInstructions =
  'You are a financial analyst. Look up the revenue of every quarter the user names with getRevenue (one call per ' +
  'quarter, all at once), then save a one-sentence summary with recordNote, then answer in one or two sentences.';

export function createDemoAnalyst(options: { absurd: Absurd; model: LanguageModel; notesFile: string }) {
  return new AbsurdAgent({
    id: 'analyst',
    model: options.model,
    instructions: analystInstructions,
    stopWhen: isStepCount(8),
    tools: {
      getRevenue: tool({
        description: 'Revenue of one quarter of this year, in US dollars.',
        inputSchema: jsonSchema<{ quarter: 'Q1' | 'Q2' | 'Q3' | 'Q4' }>({
          type: 'object',
          properties: { quarter: { type: 'string', enum: ['Q1', 'Q2', 'Q3', 'Q4'] } },
          required: ['quarter'],
          additionalProperties: false,
        }),
        execute: async ({ quarter }, { toolCallId }) =>
          reported('getRevenue', toolCallId, { quarter }, async () => ({ quarter, revenue: quarterlyRevenue[quarter] ?? 0 })),
      }),
      recordNote: tool({
        description: 'Saves a note for the finance team. Call it once.',
        inputSchema: jsonSchema<{ text: string }>({
          type: 'object',
          properties: { text: { type: 'string' } },
          required: ['text'],
          additionalProperties: false,
        }),
        execute: async ({ text }, { toolCallId }) =>
          reported('recordNote', toolCallId, { text }, async () => {
            await appendFile(options.notesFile, `${new Date().toISOString()} ${text}\n`);
            return { saved: true };
          }),
      }),
    },
  }, options.absurd);
}

let toolRuns = 0;

/** Tool executions this process has started so far. */
export function liveToolRuns(): number {
  return toolRuns;
}

/** Runs a tool body and tells the demo it ran: only live executions get here, replayed ones never do. */
async function reported<T>(toolName: string, toolCallId: string, input: unknown, execute: () => Promise<T>): Promise<T> {
  toolRuns += 1;
  emitDemoEvent({ type: 'tool-started', toolName, toolCallId, input });
  const started = performance.now();
  const output = await execute();
  emitDemoEvent({ type: 'tool-finished', toolName, toolCallId, output, durationMs: Math.round(performance.now() - started) });
  return output;
}
