// Runs every unit suite (src/**/*.test.ts) and cross-module suite (test/**/*.test.ts) with Node's
// test runner. Suites use embedded PGlite unless TEST_DATABASE_URL names a Postgres server.
// The suite that restarts the Postgres server runs on its own, after the others, so that no other
// suite loses its connections to that restart.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const extraArguments = process.argv.slice(2);
const patterns = extraArguments.filter((argument) => !argument.startsWith('-'));
const flags = extraArguments.filter((argument) => argument.startsWith('-'));
const serverRestartSuite = 'test/chaos/postgres-restart.test.ts';
const backend = process.env.TEST_DATABASE_URL ? `Postgres (${redact(process.env.TEST_DATABASE_URL)})` : 'embedded PGlite';
console.log(`ai-sdk-absurd tests against ${backend}`);

const everySuite = [...globSync('src/**/*.test.ts'), ...globSync('test/**/*.test.ts')].sort();
const runs =
  patterns.length > 0
    ? [patterns]
    : [everySuite.filter((file) => file !== serverRestartSuite), [serverRestartSuite]];

let status = 0;
for (const files of runs) {
  const result = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-timeout=240000', ...flags, ...files],
    { stdio: 'inherit', env: process.env },
  );
  if ((result.status ?? 1) !== 0) status = result.status ?? 1;
}
process.exit(status);

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
