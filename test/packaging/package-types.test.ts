// The package as published: what the tarball holds, and that its type declarations compile in an application
// with the strictest settings (`strict`, `skipLibCheck: false`) that installed only what the README says: the
// package, `ai`, and no MCP client, no `@types/pg`. Errors inside other packages' own declarations are theirs;
// the test counts the errors in this package's files and in the application's.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { linkClosure, packAndInstall, repositoryRoot, type PackedPackage } from './packed-package.ts';

let packed: PackedPackage;
before(() => {
  packed = packAndInstall();
});
after(() => {
  if (packed) rmSync(packed.directory, { recursive: true, force: true });
});

const application = `
import { Absurd, AbsurdAgent, defaultRetryStrategy, markPermanent, versionedQueueName, type TaskHandle } from 'ai-sdk-absurd';
import { AbsurdChatTransport } from 'ai-sdk-absurd/chat';
import type { LanguageModel } from 'ai';

declare const model: LanguageModel;

const absurd = new Absurd({ db: 'pglite:memory', queueName: versionedQueueName('analysis', 'v2'), defaultRetryStrategy });
const analyst = new AbsurdAgent({ id: 'analyst', model }, absurd);

const analyse: TaskHandle<{ question: string }, { report: string }> = absurd.registerTask(
  { name: 'analyse', version: 'v2' },
  async (params: { question: string }) => {
    if (params.question === '') throw markPermanent(new Error('empty question'));
    const result = await analyst.generate({ prompt: params.question });
    return { report: result.text };
  },
);

export async function ask(question: string): Promise<string> {
  const { taskID } = await analyse.spawn({ question });
  const done = await analyse.awaitResult(taskID, { timeout: 60 });
  return done.state === 'completed' ? done.result.report : done.state;
}

export const transport = new AbsurdChatTransport({ api: '/api/chat' });
`;

const mcpApplication = `
import { createMCPClient } from '@ai-sdk/mcp';
import { durableMCPClient } from 'ai-sdk-absurd';
import { z } from 'zod';

const weather = durableMCPClient({ name: 'weather', client: () => createMCPClient({ transport: { type: 'http', url: 'http://127.0.0.1:3001/mcp' } }) });

export async function forecastSchema() {
  const tools = await weather.tools({ schemas: { forecast: { inputSchema: z.object({ city: z.string() }) } } });
  return tools.forecast.inputSchema;
}
`;

function typeCheckApplication(file = 'app.ts', source = application): string[] {
  writeFileSync(join(packed.consumer, file), source);
  writeFileSync(
    join(packed.consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        lib: ['es2024', 'dom'],
        types: ['node'],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
      },
      files: [file],
    }),
  );
  const compiler = join(packed.consumer, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [compiler, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: packed.consumer, encoding: 'utf8' });
  const lines = `${run.stdout}${run.stderr}`.split('\n').filter((line) => /error TS\d+/.test(line));
  if (run.status !== 0 && lines.length === 0) throw new Error(`tsc failed without diagnostics:\n${run.stdout}\n${run.stderr}`);
  return lines;
}

test('the tarball ships the compiled code, the schema, the command and the license, and nothing of the sources', () => {
  const { files } = packed;
  for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/chat/index.js', 'dist/chat/index.d.ts', 'bin/ai-sdk-absurd.js']) {
    assert.ok(files.includes(required), `${required} is missing from the tarball`);
  }
  assert.ok(files.some((file) => file.startsWith('sql/migrations/') && file.endsWith('.sql')), 'no migrations in the tarball');
  assert.deepEqual(files.filter((file) => file.startsWith('src/') || file.startsWith('test/') || /\.test\.(js|d\.ts)$/.test(file)), []);
});

test('no source map points at a file the tarball does not ship', () => {
  const shipped = new Set(packed.files);
  const target = join(packed.consumer, 'node_modules', 'ai-sdk-absurd');
  const dangling: string[] = [];
  for (const file of packed.files.filter((path) => path.endsWith('.js') || path.endsWith('.d.ts') || path.endsWith('.map'))) {
    const text = readFileSync(join(target, file), 'utf8');
    const reference = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
    if (reference && !reference.startsWith('data:')) {
      const mapPath = relative(target, join(target, file, '..', reference)).split(sep).join('/');
      if (!shipped.has(mapPath)) dangling.push(`${file} -> ${mapPath}`);
    }
    if (file.endsWith('.map')) {
      const map = JSON.parse(text) as { sources?: string[]; sourceRoot?: string };
      for (const source of map.sources ?? []) {
        const sourcePath = relative(target, join(target, file, '..', map.sourceRoot ?? '', source)).split(sep).join('/');
        if (!shipped.has(sourcePath)) dangling.push(`${file} -> ${sourcePath}`);
      }
    }
  }
  assert.deepEqual(dangling, []);
});

test('package.json carries the license, repository, homepage, bugs and engines that npm shows', () => {
  const manifest = JSON.parse(readFileSync(join(packed.consumer, 'node_modules', 'ai-sdk-absurd', 'package.json'), 'utf8'));
  assert.equal(manifest.license, 'Apache-2.0');
  assert.match(readFileSync(join(repositoryRoot, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
  assert.match(manifest.repository?.url ?? '', /^git\+https:\/\/github\.com\/.+\.git$/);
  assert.match(manifest.homepage ?? '', /^https:\/\//);
  assert.match(manifest.bugs?.url ?? '', /^https:\/\//);
  assert.match(manifest.engines?.node ?? '', /^>=\d+/);
});

test('an application without MCP and without @types/pg type-checks against the declarations with strict settings', () => {
  assert.ok(packed.installed.has('ai') && packed.installed.has('absurd-sdk'), 'the install lacks ai or absurd-sdk');
  assert.ok(!packed.installed.has('@ai-sdk/mcp') && !packed.installed.has('@types/pg'), 'the install holds development packages');
  const errors = typeCheckApplication();
  assert.deepEqual(ownErrors(errors, 'app.ts'), [], `type errors in the application or in this package's declarations:\n${errors.join('\n')}`);
});

test('with @ai-sdk/mcp installed, durableMCPClient keeps the typed tools of the MCP client', () => {
  linkClosure(['@ai-sdk/mcp', 'zod'], join(packed.consumer, 'node_modules'), new Set(packed.installed));
  const errors = typeCheckApplication('mcp-app.ts', mcpApplication);
  assert.deepEqual(ownErrors(errors, 'mcp-app.ts'), [], `type errors in the application or in this package's declarations:\n${errors.join('\n')}`);
});

function ownErrors(errors: readonly string[], file: string): string[] {
  return errors.filter((line) => line.startsWith(file) || line.startsWith('node_modules/ai-sdk-absurd/'));
}

test('"In your own project" works as the README writes it: the install it shows, then npx ai-sdk-absurd demo', () => {
  const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
  const install = /npm install (ai-sdk-absurd[^\n]*)\nnpx ai-sdk-absurd demo/.exec(readme)?.[1];
  assert.ok(install, 'the README no longer shows the install and the demo command');
  const packages = install.split(/\s+/).filter((name) => name !== 'ai-sdk-absurd');
  linkClosure(packages, join(packed.consumer, 'node_modules'), new Set(packed.installed));
  const demo = spawnSync(process.execPath, [join(packed.consumer, 'node_modules', 'ai-sdk-absurd', 'bin', 'ai-sdk-absurd.js'), 'demo'], {
    cwd: packed.consumer,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, ABSURD_DATABASE_URL: undefined, OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined },
  });
  assert.equal(demo.status, 0, `${demo.stdout}\n${demo.stderr}`);
  assert.match(demo.stdout, /attempt 2 replayed \d+ checkpoints/);
});

test('the installed command runs from the tarball', () => {
  const help = execFileSync(process.execPath, [join(packed.consumer, 'node_modules', 'ai-sdk-absurd', 'bin', 'ai-sdk-absurd.js'), '--help'], {
    cwd: packed.consumer,
    encoding: 'utf8',
  });
  assert.match(help, /Usage: ai-sdk-absurd/);
  assert.match(help, /demo/);
});
