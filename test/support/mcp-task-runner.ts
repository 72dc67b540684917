// Runs one Absurd task to its end on the calling thread, retrying failed attempts at once, so MCP suites
// can crash an attempt on purpose and watch the next one replay. The client is closed afterwards.
import type { TaskResultSnapshot } from 'absurd-sdk';
import type { Absurd } from '../../src/client/absurd.ts';

/** Keeps the attempts a suite crashes on purpose out of the test output. */
export const quietLog = { log() {}, info() {}, warn() {}, error() {} };

export async function runTaskToEnd(
  absurd: Absurd,
  taskName: string,
  params: unknown,
  options: { maxAttempts?: number } = {},
): Promise<TaskResultSnapshot> {
  try {
    return await workUntilDone(absurd, taskName, params, options);
  } finally {
    await absurd.close();
  }
}

async function workUntilDone(
  absurd: Absurd,
  taskName: string,
  params: unknown,
  options: { maxAttempts?: number },
): Promise<TaskResultSnapshot> {
  await absurd.createQueue();
  const { taskID } = await absurd.spawn(taskName, params, {
    maxAttempts: options.maxAttempts ?? 2,
    retryStrategy: { kind: 'fixed', baseSeconds: 0 },
  });
  for (let round = 0; round < 20; round++) {
    await absurd.workBatch('mcp-test-worker', 60, 1);
    const snapshot = await absurd.fetchTaskResult(taskID);
    if (snapshot && (snapshot.state === 'completed' || snapshot.state === 'failed' || snapshot.state === 'cancelled')) {
      return snapshot;
    }
  }
  throw new Error(`Task ${taskName} (${taskID}) did not finish within 20 rounds.`);
}
