// Runs every unit suite (src/**/*.test.ts) and cross-module suite (test/**/*.test.ts) with Node's
// test runner. Suites use embedded PGlite unless TEST_DATABASE_URL names a Postgres server.
import { spawnSync } from 'node:child_process';

const extraArguments = process.argv.slice(2);
const patterns = extraArguments.filter((argument) => !argument.startsWith('-'));
const flags = extraArguments.filter((argument) => argument.startsWith('-'));
const files = patterns.length > 0 ? patterns : ['src/**/*.test.ts', 'test/**/*.test.ts'];
const backend = process.env.TEST_DATABASE_URL ? `Postgres (${redact(process.env.TEST_DATABASE_URL)})` : 'embedded PGlite';
console.log(`ai-sdk-absurd tests against ${backend}`);

const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=240000', ...flags, ...files],
  { stdio: 'inherit', env: process.env },
);
process.exit(result.status ?? 1);

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
