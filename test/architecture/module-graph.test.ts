// The module graph of src/ is a clean stack (.dependency-cruiser.cjs names the layers): no import runs up a
// layer and no modules import each other. Checked with dependency-cruiser, on the sources and on a small
// tree with one upward import and one cycle, so the check itself is known to catch both.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string): { status: number | null; output: string } {
  const result = spawnSync(depcruise, ['src', '--config', config, '--output-type', 'err'], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('src/ has no upward import and no cycle', () => {
  const { status, output } = cruise(root);
  assert.equal(status, 0, output);
  assert.match(output, /no dependency violations found/);
});

test('the check finds an upward import and a cycle when there are some', () => {
  const tree = mkdtempSync(join(tmpdir(), 'ai-sdk-absurd-graph-'));
  try {
    const write = (path: string, text: string) => {
      mkdirSync(join(tree, path, '..'), { recursive: true });
      writeFileSync(join(tree, path), text);
    };
    write('src/agent/agent-run.ts', "export const run = 1;\n");
    write('src/errors/bad-error.ts', "import { run } from '../agent/agent-run.ts';\nexport const bad = run;\n");
    write('src/streams/a.ts', "import { b } from './b.ts';\nexport const a = () => b;\n");
    write('src/streams/b.ts', "import { a } from './a.ts';\nexport const b = () => a;\n");
    const { status, output } = cruise(tree);
    assert.notEqual(status, 0, output);
    assert.match(output, /no-upward-import: errors and codec: src\/errors\/bad-error\.ts → src\/agent\/agent-run\.ts/);
    assert.match(output, /no-cycles: src\/streams\/a\.ts/);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
});
