// Postgres restarted in the middle of the load: workers lose every connection, reconnect, and every
// task still completes with the right output and no repeated work. It restarts the server it runs
// against, so it runs only when TEST_DATABASE_URL names the server on this machine and pg_ctlcluster
// exists, and it always leaves the server running.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { testDatabaseUrl } from '../support/test-database.ts';
import { runChaos } from './run-chaos.ts';

const run = promisify(execFile);
const pgCtlCluster = '/usr/bin/pg_ctlcluster';

/** The local cluster TEST_DATABASE_URL points at, or why this test cannot restart it. */
function localCluster(): { version: string; name: string } | string {
  if (!testDatabaseUrl) return 'TEST_DATABASE_URL is not set';
  const url = new URL(testDatabaseUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return `TEST_DATABASE_URL points at ${url.hostname}, not this machine`;
  if (!existsSync(pgCtlCluster)) return 'pg_ctlcluster is not installed';
  const port = url.port || '5432';
  for (const version of existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : []) {
    for (const name of readdirSync(`/etc/postgresql/${version}`)) {
      const conf = `/etc/postgresql/${version}/${name}/postgresql.conf`;
      if (existsSync(conf) && clusterPort(conf) === port) return { version, name };
    }
  }
  return `no local cluster listens on port ${port}`;
}

function clusterPort(conf: string): string {
  const text = readFileSync(conf, 'utf8');
  return /^\s*port\s*=\s*(\d+)/m.exec(text)?.[1] ?? '5432';
}

const cluster = localCluster();

async function ensureRunning(target: { version: string; name: string }): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const ready = await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', new URL(testDatabaseUrl!).port || '5432']).then(
      () => true,
      () => false,
    );
    if (ready) return;
    if (attempt === 0 || attempt % 10 === 9) {
      await run(pgCtlCluster, ['--skip-systemctl-redirect', target.version, target.name, 'start']).catch(() => {});
    }
    await delay(500);
  }
  throw new Error(`Postgres ${target.version}/${target.name} is not accepting connections`);
}

after(async () => {
  if (typeof cluster !== 'string') await ensureRunning(cluster);
});

test('workers survive a Postgres restart mid-load and every task completes', { skip: typeof cluster === 'string' ? cluster : false }, async (t) => {
  const target = cluster as { version: string; name: string };
  let restarted = false;
  const report = await runChaos({
    tasks: 30,
    workers: 2,
    kill: false,
    timeoutMs: 200_000,
    log: (line) => t.diagnostic(line),
    midLoad: {
      atFraction: 0.3,
      action: async () => {
        await run(pgCtlCluster, ['--skip-systemctl-redirect', target.version, target.name, 'restart'], { timeout: 60_000 });
        restarted = true;
        await ensureRunning(target);
      },
    },
  });
  t.diagnostic(`${report.completed}/${report.tasks} completed in ${report.seconds} s, ${report.reaskedAfterKill} model requests re-asked`);
  assert.ok(restarted, 'the server was never restarted: the load finished before the restart point');
  assert.deepEqual(report.violations, []);
  assert.equal(report.completed, report.tasks);
});
