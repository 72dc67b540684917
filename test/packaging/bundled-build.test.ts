// A bundler folds the library into one file that lives elsewhere: the migrations must travel inside it.
// The bundle is written to a scratch folder under node_modules/.cache (so the packages it leaves external
// resolve as an application's would, with no sql/ folder anywhere near it), then migrates a fresh database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { librarySchemaVersion } from '../../src/schema/migrations.ts';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

test('a single-file bundle of the library migrates a database with no sql/ folder beside it', async () => {
  const cache = join(repositoryRoot, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const folder = mkdtempSync(join(cache, 'ai-sdk-absurd-bundle-'));
  try {
    const bundle = join(folder, 'library.mjs');
    await build({
      entryPoints: [join(repositoryRoot, 'src/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      outfile: bundle,
      packages: 'external',
      logLevel: 'silent',
    });
    const script = join(folder, 'main.mjs');
    writeFileSync(
      script,
      [
        `import { PGlite } from '@electric-sql/pglite';`,
        `const { migrate, databaseSchemaVersion } = await import('./library.mjs');`,
        'const database = new PGlite();',
        'const result = await migrate(database);',
        'console.log(JSON.stringify({ applied: result.applied.length, version: await databaseSchemaVersion(database) }));',
        'await database.close();',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', cwd: folder });
    assert.equal(run.status, 0, run.stderr);
    const version = librarySchemaVersion();
    assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').at(-1)!), { applied: version, version });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
