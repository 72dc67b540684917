// The work the chaos suite puts through crashing workers: analyst tasks over the scripted local model,
// each with a unique prompt (so every model request of every task is distinguishable), tools whose side
// effects are recorded outside the database, and a reference run that says what each task must return.
import { isStepCount, ToolLoopAgent, tool } from 'ai';
import { z } from 'zod';
import type { LanguageModel } from 'ai';
import { analystInstructions } from '../support/analyst-scenario.ts';

export interface ChaosTaskParams {
  readonly prompt: string;
  readonly mode: 'generate' | 'stream';
  /** recordNote waits for a person's approval (only when the client supports approvals). */
  readonly approval: boolean;
}

/** One execution of a tool body, appended to the effects file as a JSON line. */
export interface ToolSideEffect {
  readonly taskID: string;
  readonly toolName: string;
  readonly toolCallId: string;
  readonly pid: number;
  /** Date.now() when the side effect happened. */
  readonly at: number;
}

const quarterSets = [['Q1'], ['Q2', 'Q3'], ['Q1', 'Q2', 'Q4'], ['Q3', 'Q4']];

/**
 * Params of task `index`: a unique prompt; every fourth needs an approval (durable approvals suspend
 * `generate()`), and every third of the others streams.
 */
export function chaosTaskParams(index: number, approvals: boolean): ChaosTaskParams {
  const quarters = quarterSets[index % quarterSets.length]!;
  const approval = approvals && index % 4 === 1;
  return {
    prompt: `Task ${index}: report the revenue of ${quarters.join(' and ')}.`,
    mode: !approval && index % 3 === 2 ? 'stream' : 'generate',
    approval,
  };
}

export function revenueOf(quarter: string): number {
  return Number.parseInt(quarter.slice(1), 10) * 1_250 + 100;
}

export interface ChaosToolOptions {
  /** Called once per execution of a tool body, at the point where its side effect happens. */
  readonly record: (toolName: string, toolCallId: string) => void;
  /** Awaited before and after the side effect: widens the windows in which a worker can die. */
  readonly pause?: () => Promise<void>;
}

export function chaosTools(options: ChaosToolOptions) {
  const pause = options.pause ?? (async () => {});
  return {
    getRevenue: tool({
      description: 'Revenue of one quarter, in dollars.',
      inputSchema: z.object({ quarter: z.string() }),
      execute: async ({ quarter }, { toolCallId }) => {
        await pause();
        options.record('getRevenue', toolCallId);
        await pause();
        return { quarter, revenue: revenueOf(quarter) };
      },
    }),
    recordNote: tool({
      description: 'Saves a note for the finance team.',
      inputSchema: z.object({ text: z.string() }),
      execute: async (_input, { toolCallId }) => {
        await pause();
        options.record('recordNote', toolCallId);
        await pause();
        return { saved: true };
      },
    }),
  };
}

/** The agent settings every chaos task uses; `approval` puts recordNote behind a person's decision. */
export function chaosAgentSettings(model: LanguageModel, tools: ReturnType<typeof chaosTools>, approval: boolean) {
  return {
    id: 'analyst',
    model,
    instructions: analystInstructions,
    tools,
    stopWhen: isStepCount(8),
    ...(approval ? { toolApproval: { recordNote: 'user-approval' as const } } : {}),
  };
}

/** What a task must return: the same agent run plainly, without durability or faults. */
export async function expectedChaosText(model: LanguageModel, params: ChaosTaskParams): Promise<string> {
  const agent = new ToolLoopAgent(chaosAgentSettings(model, chaosTools({ record: () => {} }), false));
  const result = await agent.generate({ prompt: params.prompt });
  return result.text;
}
