// The whole protocol conformance suite (test/protocol) once more, with every queue it creates partitioned
// (TEST_STORAGE_MODE=partitioned makes its createQueue pass storage mode 'partitioned'), on the same backend
// as this run: spawn, claim, leases, retries, checkpoints, events, cancellation, cleanup and drop behave the
// same in both storage modes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { globSync } from 'node:fs';
import { test } from 'node:test';

// It runs the suites one at a time, which takes minutes; its own timeout replaces the per-test default.
test('the protocol conformance suite passes on partitioned queues', { timeout: 1_200_000 }, async () => {
  const suites = globSync('test/protocol/*.test.ts').sort();
  assert.ok(suites.length >= 10, `only ${suites.length} protocol suites found`);
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=240000', '--test-reporter=tap', ...suites], {
    // Without NODE_TEST_CONTEXT the child reports on its own stdout instead of to this runner.
    env: { ...withoutTestContext(process.env), TEST_STORAGE_MODE: 'partitioned' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const failures = output.split('\n').filter((line) => /^\s*not ok /.test(line));
  assert.deepEqual(failures, [], output.slice(-4000));
  assert.equal(code, 0, output.slice(-4000));
  const passed = Number(/^# pass (\d+)/m.exec(output)?.[1] ?? 0);
  assert.ok(passed >= 50, `only ${passed} protocol tests ran`);
});

function withoutTestContext(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, ...rest } = env;
  return rest;
}
