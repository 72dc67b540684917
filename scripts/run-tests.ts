// Runs every unit suite (src/**/*.test.ts) and cross-module suite (test/**/*.test.ts) with Node's
// test runner. Suites use embedded PGlite unless TEST_DATABASE_URL names a Postgres server.
// Unit suites open no database, so they run first and on their own (the fast lane, `npm run test:unit`),
// and a unit suite that reaches for a test database fails. Suites that need the server to themselves run
// on their own, after the others: the one that restarts Postgres (no other suite loses its connections to
// that restart) and the one that drains a queue with 16 workers' pools (no other suite's connections push
// the server past max_connections under it).
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { redactUrl } from '../src/db/redact-url.ts';

const extraArguments = process.argv.slice(2);
const patterns = extraArguments.filter((argument) => !argument.startsWith('-'));
const flags = extraArguments.filter((argument) => argument.startsWith('-'));
const soloSuites = ['test/protocol/concurrency.test.ts', 'test/chaos/postgres-restart.test.ts'];
const backend = process.env.TEST_DATABASE_URL ? `Postgres (${redactUrl(process.env.TEST_DATABASE_URL)})` : 'embedded PGlite';
console.log(`ai-sdk-absurd tests against ${backend}`);

const unitSuites = globSync('src/**/*.test.ts').sort();
const crossModuleSuites = globSync('test/**/*.test.ts').sort();
const runs =
  patterns.length > 0
    ? [patterns]
    : [unitSuites, crossModuleSuites.filter((file) => !soloSuites.includes(file)), ...soloSuites.map((file) => [file])];

let status = 0;
for (const files of runs) {
  const unitLane = files.every((file) => globSync(file).every((match) => match.startsWith('src/')));
  const result = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-timeout=240000', ...flags, ...files],
    { stdio: 'inherit', env: unitLane ? { ...process.env, AI_SDK_ABSURD_UNIT_LANE: '1' } : process.env },
  );
  if ((result.status ?? 1) !== 0) status = result.status ?? 1;
}
process.exit(status);
