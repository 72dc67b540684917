// The setting of the agent cases of the bad-input catalogue: a real AbsurdAgent over the OpenAI provider,
// pointed at a local scripted server that asks for one `produce` tool call and then answers "done". The
// tool returns whatever the case hands it. Each run is a task on a fresh test database; the harness keeps
// the error the agent raised and counts tool executions and model requests.
import assert from 'node:assert/strict';
import { createOpenAI } from '@ai-sdk/openai';
import { isStepCount, jsonSchema, tool } from 'ai';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import type { ModelScript } from '../support/openai-wire-format.ts';

const produceOnce: ModelScript = (conversation) =>
  conversation.toolResults.length === 0 ? { toolCalls: [{ toolName: 'produce', input: { label: conversation.userPrompt } }] } : { text: 'done' };

export const quietLog = { log() {}, info() {}, warn() {}, error() {} };

export interface CatalogueRun {
  readonly taskID: string;
  /** The error `agent.generate()` rejected with in each attempt (undefined when it resolved). */
  readonly errors: unknown[];
  /** What the tool returned to the agent in each attempt, as the AI SDK's result reports it. */
  readonly outputs: unknown[];
  /** Times the tool body ran, over all attempts. */
  readonly executions: number;
}

export interface CatalogueHarness {
  readonly database: TestDatabase;
  readonly absurd: Absurd;
  readonly model: OpenAICompatibleServer;
  readonly queueName: string;
  /**
   * Spawns a task whose agent's tool returns `produce()`, and works it until it stops. With `crashAfterRun`
   * the first attempt throws after the agent finished, so the second attempt replays every checkpoint.
   */
  run(
    label: string,
    produce: () => unknown,
    options?: { crashAfterRun?: boolean; beforeRetry?: (taskID: string) => Promise<void>; maxCheckpointBytes?: number },
  ): Promise<CatalogueRun>;
  close(): Promise<void>;
}

export async function startCatalogueHarness(): Promise<CatalogueHarness> {
  const database = await createTestDatabase();
  const queueName = uniqueQueueName('catalogue');
  const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName, log: quietLog });
  const model = await startOpenAICompatibleServer({ script: produceOnce });
  const provider = createOpenAI({ baseURL: model.baseURL, apiKey: 'catalogue-key' });
  await absurd.createQueue();

  let counter = 0;
  return {
    database,
    absurd,
    model,
    queueName,
    async run(label, produce, options = {}) {
      counter += 1;
      const taskName = `catalogue-${counter}`;
      const errors: unknown[] = [];
      const outputs: unknown[] = [];
      let executions = 0;
      const agent = new AbsurdAgent(
        {
          model: provider.chat('gpt-catalogue'),
          tools: {
            produce: tool({
              inputSchema: jsonSchema<{ label: string }>({ type: 'object', properties: { label: { type: 'string' } } }),
              execute: async () => {
                executions += 1;
                return produce();
              },
              // The model sees a fixed text, so a value JSON cannot carry never reaches the provider.
              toModelOutput: () => ({ type: 'text', value: 'produced' }),
            }),
          },
          stopWhen: isStepCount(3),
          ...(options.maxCheckpointBytes === undefined ? {} : { maxCheckpointBytes: options.maxCheckpointBytes }),
        },
        absurd,
        { name: 'catalogue' },
      );
      absurd.registerTask({ name: taskName }, async () => {
        try {
          const result = await agent.generate({ prompt: label });
          outputs.push(result.steps[0]?.toolResults[0]?.output);
          errors.push(undefined);
        } catch (error) {
          errors.push(error);
          throw error;
        }
        if (options.crashAfterRun && getCurrentTask()?.attempt === 1) throw new Error('crash after the run');
        return 'done';
      });
      const { taskID } = await absurd.spawn(taskName, { label }, { maxAttempts: options.crashAfterRun ? 2 : 1, retryStrategy: { kind: 'none' } });
      await absurd.workBatch('catalogue', 60, 1);
      if (options.crashAfterRun) {
        await options.beforeRetry?.(taskID);
        await absurd.workBatch('catalogue', 60, 1);
      }
      return { taskID, errors, outputs, executions };
    },
    async close() {
      await absurd.close();
      await model.close();
      await database.close();
    },
  };
}

/** Checkpoints stored for one task: name → stored JSON text. */
export async function taskCheckpoints(harness: CatalogueHarness, taskID: string): Promise<Map<string, string>> {
  const { rows } = await harness.database.query<{ name: string; state: string }>(
    `select checkpoint_name as name, state::text as state from absurd."c_${harness.queueName}" where task_id = $1 order by 1`,
    [taskID],
  );
  return new Map(rows.map((row) => [row.name, row.state]));
}

/** Asserts that every row stored in `before` is still stored, unchanged (new rows may have been added). */
export function assertRowsKept(before: Record<string, string[]>, after: Record<string, string[]>): void {
  for (const [table, rows] of Object.entries(before)) {
    const now = new Set(after[table] ?? []);
    const missing = rows.filter((row) => !now.has(row));
    assert.deepEqual(missing, [], `rows of ${table} were lost or changed`);
  }
}
