import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import type { RunRecord } from '../../history/task-history.ts';
import { describeExpiredLease } from './show-command.ts';

function runOf(attempt: number, workerID: string): RunRecord {
  return { runID: `run-${attempt}`, attempt, state: attempt === 1 ? 'failed' : 'completed', workerID, startedAt: null, finishedAt: null, failureReason: null };
}

test('an expired lease says the worker was killed only when its process is known to be gone', () => {
  const exited = spawnSync(process.execPath, ['-e', '0']).pid;
  const gone = `${hostname()}:${exited}`;
  assert.match(describeExpiredLease(gone, runOf(1, gone), [runOf(1, gone)]), new RegExp(`pid ${exited} on this host\\) no longer exists: it was killed or crashed$`));

  const alive = `${hostname()}:${process.pid}`;
  assert.match(describeExpiredLease(alive, runOf(1, alive), [runOf(1, alive)]), /still runs on this host, so the worker was probably alive/);

  const elsewhere = 'another-host:4711';
  const unknown = describeExpiredLease(elsewhere, runOf(1, elsewhere), [runOf(1, elsewhere), runOf(2, 'third-host:1')]);
  assert.match(unknown, /nothing recorded says which\)$/);
  assert.doesNotMatch(unknown, /was killed or crashed|was alive/);

  const claimedAgain = describeExpiredLease(elsewhere, runOf(1, elsewhere), [runOf(1, elsewhere), runOf(2, elsewhere)]);
  assert.match(claimedAgain, /the same worker claimed attempt 2 afterwards, so it was alive/);
});
