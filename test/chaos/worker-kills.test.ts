// The small chaos configuration that runs with every `npm test`: agent tasks (tool calls with recorded
// side effects, some streaming, some waiting for approvals once the client supports them) drained by
// worker processes that are SIGKILLed at random moments and restarted. On Postgres three workers share
// the queue; an embedded database allows one process, so there the only worker is killed and restarted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usingPostgres } from '../support/test-database.ts';
import { runChaos } from './run-chaos.ts';

test('no task is lost and no completed work is repeated while workers are killed at random', async (t) => {
  const tasks = usingPostgres ? 60 : 16;
  const report = await runChaos({
    tasks,
    // An embedded database has one worker, and a killed worker's leases must expire before its tasks
    // move on, so there a few well-placed kills prove the point without stalling the load.
    killEveryMs: [100, 400],
    ...(usingPostgres ? {} : { maxKills: 3 }),
    timeoutMs: 200_000,
    log: (line) => t.diagnostic(line),
  });
  t.diagnostic(
    `${report.backend}: ${report.kills} kills, ${report.toolCalls} tool calls (${report.cutInsideTool} repeated after a kill inside the tool), ` +
      `${report.modelRequests} model requests (${report.reaskedAfterKill} re-asked after a kill before the checkpoint), ` +
      `approvals ${report.approvals ?? 'unsupported'}, ${report.seconds} s`,
  );
  assert.deepEqual(report.violations, []);
  assert.equal(report.completed, tasks);
  // The run proves something only if workers really died while holding work.
  assert.ok(report.kills > 0, 'no worker was killed');
});
