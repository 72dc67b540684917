// The memory benchmark measures the library as users run it: compiled JavaScript, not TypeScript
// stripped on load (which costs the process memory of its own). This compiles src/ and bench/peers/
// into node_modules/.cache, where package imports still resolve, with the SQL files beside them.
import { execFile } from 'node:child_process';
import { cp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cache = `${root}node_modules/.cache/ai-sdk-absurd-bench/`;

/** Compiles and returns the path of the compiled file for `relativePath` (e.g. `bench/peers/memory-worker.ts`). */
export async function compileForBenchmark(relativePath: string): Promise<string> {
  await rm(cache, { recursive: true, force: true });
  await mkdir(cache, { recursive: true });
  const config = {
    extends: `${root}tsconfig.json`,
    compilerOptions: { noEmit: false, noEmitOnError: false, rootDir: root, outDir: `${cache}out`, declaration: false, sourceMap: false },
    include: [`${root}src`, `${root}bench/peers`],
    exclude: [`${root}**/*.test.ts`],
  };
  await writeFile(`${cache}tsconfig.json`, JSON.stringify(config));
  // Type errors do not stop the emit; a missing output file below does.
  await promisify(execFile)(`${root}node_modules/.bin/tsc`, ['-p', `${cache}tsconfig.json`]).catch(() => {});
  await cp(`${root}sql`, `${cache}out/sql`, { recursive: true });
  const compiled = `${cache}out/${relativePath.replace(/\.ts$/, '.js')}`;
  await stat(compiled);
  return compiled;
}
