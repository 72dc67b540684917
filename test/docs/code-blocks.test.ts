// Every TypeScript block of README.md and docs/*.md is type-checked as a module against this repository's
// sources (imported as `ai-sdk-absurd`), and every block marked `runnable` is executed against a fresh database
// and the demo's scripted OpenAI-compatible model. Fragments marked `no-check` must not compile on their own,
// so a complete program can never hide behind the marker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { startScriptedModelServer } from '../../src/demo/scripted-model-server.ts';
import type { ScriptedModelServer } from '../../src/demo/scripted-model-server.ts';
import { createChildDatabase, type ChildDatabase } from './support/child-database.ts';
import {
  codeBlocksOf,
  documentationFiles,
  isTypeScript,
  relativeLinksOf,
  repositoryRoot,
  type CodeBlock,
} from './support/markdown-code-blocks.ts';
import { describeRun, runNode } from './support/run-node.ts';

const knownLanguages = new Set(['ts', 'typescript', 'sh', 'bash', 'text', 'sql', 'json', 'http', 'diff']);
const knownAttributes = new Set(['file', 'runnable', 'no-check', 'args-from']);

interface PlacedBlock {
  readonly block: CodeBlock;
  readonly path: string;
}

const documents = documentationFiles();
const blocks = documents.flatMap(codeBlocksOf);
const typeScriptBlocks = blocks.filter(isTypeScript);
// Outside the repository (Node strips types only outside node_modules), with node_modules linked in so the blocks'
// imports resolve as they would in a user's project.
const workspace = join(tmpdir(), `ai-sdk-absurd-docs-${randomBytes(4).toString('hex')}`);
const placed = placeBlocks(typeScriptBlocks);
let diagnostics: Map<string, string[]>;

function placeBlocks(candidates: CodeBlock[]): PlacedBlock[] {
  return candidates.map((block, index) => {
    const page = block.document.replace(/\.md$/, '').replace(/[\\/]/g, '__');
    const file = block.attributes.get('file');
    const name = typeof file === 'string' ? file : `block-${block.line}.ts`;
    const folder = block.attributes.has('no-check') ? join(page, 'fragments', String(index)) : page;
    return { block, path: join(workspace, folder, name) };
  });
}

function typeCheck(): Map<string, string[]> {
  const files = new Set<string>();
  for (const { block, path } of placed) {
    if (files.has(path)) throw new Error(`${block.document}:${block.line}: another block of this page is already named ${path}`);
    files.add(path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${block.code}\nexport {};\n`);
  }
  writeFileSync(
    join(workspace, 'tsconfig.json'),
    JSON.stringify({
      extends: join(repositoryRoot, 'tsconfig.json'),
      compilerOptions: { noEmit: true, paths: { 'ai-sdk-absurd': [join(repositoryRoot, 'src', 'index.ts')] } },
      include: [],
      files: [...files],
    }),
  );
  // The compiler runs on this Node.js, whatever `node` is first on PATH.
  const compiler = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const tsc = spawnSync(process.execPath, [compiler, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: workspace, encoding: 'utf8' });
  if (tsc.error) throw tsc.error;
  const found = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of `${tsc.stdout}\n${tsc.stderr}`.split('\n')) {
    const match = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (match) {
      const file = resolve(workspace, match[1] as string);
      current = found.get(file) ?? [];
      found.set(file, current);
      current.push(`line ${match[2]}: ${match[4]}`);
    } else if (current && /^\s+\S/.test(line)) {
      current.push(line.trim());
    } else {
      current = undefined;
    }
  }
  // A failing exit code with no error read from the output means the compiler itself failed, which must not pass
  // for "no type errors".
  if (tsc.status !== 0 && found.size === 0) {
    throw new Error(`tsc failed (exit code ${tsc.status}):\n${tsc.stdout}\n${tsc.stderr}`);
  }
  return found;
}

describe('documentation code blocks', () => {
  let model: ScriptedModelServer;

  before(async () => {
    mkdirSync(workspace, { recursive: true });
    symlinkSync(join(repositoryRoot, 'node_modules'), join(workspace, 'node_modules'), 'dir');
    writeFileSync(join(workspace, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    diagnostics = typeCheck();
    model = await startScriptedModelServer({ thinkMs: 0 });
  });

  after(async () => {
    await model?.close();
    rmSync(workspace, { recursive: true, force: true });
  });

  test('the documentation set exists and holds TypeScript examples', () => {
    for (const page of ['tutorial', 'durability', 'tools-and-mcp', 'production', 'troubleshooting', 'performance', 'cli']) {
      assert.ok(documents.includes(`docs/${page}.md`), `docs/${page}.md is missing`);
    }
    assert.ok(typeScriptBlocks.length >= 10, `only ${typeScriptBlocks.length} TypeScript blocks found`);
  });

  test('every fenced block names a known language and known attributes', () => {
    const problems = blocks.flatMap((block) => {
      const where = `${block.document}:${block.line}`;
      const issues: string[] = [];
      if (!knownLanguages.has(block.language)) issues.push(`${where}: language "${block.language || '(none)'}"`);
      for (const key of block.attributes.keys()) if (!knownAttributes.has(key)) issues.push(`${where}: attribute "${key}"`);
      if (block.attributes.has('runnable') && block.attributes.has('no-check')) issues.push(`${where}: runnable and no-check`);
      return issues;
    });
    assert.deepEqual(problems, []);
  });

  test('every TypeScript block type-checks', () => {
    const failures = placed
      .filter(({ block }) => !block.attributes.has('no-check'))
      .flatMap(({ block, path }) => (diagnostics.get(path) ?? []).map((message) => `${block.document}:${block.line} ${message}`));
    assert.deepEqual(failures, [], `type errors in documentation blocks (line numbers are within each block):\n${failures.join('\n')}`);
  });

  test('blocks marked no-check are fragments that do not compile on their own', () => {
    const complete = placed
      .filter(({ block, path }) => block.attributes.has('no-check') && !diagnostics.has(path))
      .map(({ block }) => `${block.document}:${block.line}`);
    assert.deepEqual(complete, [], 'these blocks compile: remove their no-check marker so they stay checked');
  });

  test('relative links point at files that exist', () => {
    const broken = documents.flatMap((document) =>
      relativeLinksOf(document)
        .filter(({ target }) => !existsSync(resolve(repositoryRoot, dirname(document), target)))
        .map(({ target, line }) => `${document}:${line} -> ${target}`),
    );
    assert.deepEqual(broken, []);
  });

  // Runnable blocks of one page run in order against one database, as a reader runs the files of a page in turn.
  // `args-from=run.ts` passes the first task id that the block named run.ts printed.
  for (const document of documents) {
    const runnable = placed.filter((entry) => entry.block.document === document && entry.block.attributes.has('runnable'));
    if (runnable.length === 0) continue;
    describe(`runs the examples of ${document}`, () => {
      let database: ChildDatabase;
      const printed = new Map<string, string>();
      before(async () => {
        database = await createChildDatabase();
      });
      after(async () => {
        await database?.close();
      });
      for (const { block, path } of runnable) {
        const name = String(block.attributes.get('file') ?? `the block at line ${block.line}`);
        test(`${name} (${block.document}:${block.line})`, async () => {
          const source = block.attributes.get('args-from');
          const taskID = typeof source === 'string' ? /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(printed.get(source) ?? '')?.[0] : undefined;
          if (typeof source === 'string') assert.ok(taskID, `${source} printed no task id for ${name} to use`);
          const run = await runNode(path, taskID ? [taskID] : [], {
            cwd: dirname(path),
            nodeArguments: ['--import', join(repositoryRoot, 'test', 'docs', 'support', 'register-package-source.ts')],
            env: {
              ABSURD_DATABASE_URL: database.url,
              OPENAI_BASE_URL: model.baseURL,
              OPENAI_API_KEY: 'scripted',
              AI_GATEWAY_API_KEY: undefined,
            },
            timeoutMs: 180_000,
          });
          printed.set(String(block.attributes.get('file') ?? block.line), run.stdout);
          assert.equal(run.code, 0, describeRun(`${block.document}:${block.line}`, run));
        });
      }
    });
  }
});
