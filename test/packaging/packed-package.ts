// Builds the package as `npm pack` publishes it, from a staging copy (so the repository's own dist/ is never
// touched), and installs the tarball into a consumer project the way npm would, offline: the tarball is
// unpacked into the project's node_modules, and every package npm would install beside it (our dependencies
// and the `ai` peer, with what they depend on, plus the project's own TypeScript and Node.js types) is
// linked from this repository's node_modules. Development-only packages (`@types/pg`, `@ai-sdk/mcp`, …)
// are left out unless a dependency brings them, as in a real install.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface PackedPackage {
  /** The directory everything lives in; remove it when done. */
  readonly directory: string;
  /** Paths inside the tarball, relative to its `package/` folder. */
  readonly files: readonly string[];
  /** The consumer project, with `node_modules/ai-sdk-absurd` unpacked from the tarball. */
  readonly consumer: string;
  /** The packages linked into the consumer's node_modules. */
  readonly installed: ReadonlySet<string>;
}

interface LockEntry {
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly optionalDependencies?: Record<string, string>;
}

export function packAndInstall(): PackedPackage {
  const directory = mkdtempSync(join(tmpdir(), 'ai-sdk-absurd-pack-'));
  const stage = join(directory, 'stage');
  mkdirSync(stage);
  const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as {
    files: string[];
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  const compiler = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [compiler, '-p', join(repositoryRoot, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], {
    cwd: repositoryRoot,
    stdio: 'pipe',
  });
  for (const entry of ['package.json', 'README.md', 'LICENSE', ...manifest.files.filter((file) => file !== 'dist')]) {
    cpSync(join(repositoryRoot, entry), join(stage, entry), { recursive: true });
  }
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', directory], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = join(directory, packed[0]!.filename);

  const consumer = join(directory, 'consumer');
  const target = join(consumer, 'node_modules', 'ai-sdk-absurd');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);

  const optionalPeers = new Set(Object.entries(manifest.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name));
  const roots = [
    ...Object.keys(manifest.dependencies),
    ...Object.keys(manifest.peerDependencies).filter((name) => !optionalPeers.has(name)),
    'typescript',
    '@types/node',
  ];
  const installed = linkClosure(roots, join(consumer, 'node_modules'));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  return { directory, files: packed[0]!.files.map((file) => file.path).sort(), consumer, installed };
}

/** Links `roots` and everything they need (dependencies and required peers, per the lockfile) into `nodeModules`. */
export function linkClosure(roots: readonly string[], nodeModules: string, installed = new Set<string>()): Set<string> {
  const lock = JSON.parse(readFileSync(join(repositoryRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (installed.has(name)) continue;
    const entry = lock.packages[`node_modules/${name}`];
    const source = join(repositoryRoot, 'node_modules', name);
    if (!entry || !existsSync(source)) continue;
    installed.add(name);
    mkdirSync(dirname(join(nodeModules, name)), { recursive: true });
    symlinkSync(source, join(nodeModules, name), 'dir');
    const optional = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([peer]) => peer));
    pending.push(...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.peerDependencies ?? {}).filter((peer) => !optional.has(peer)));
  }
  return installed;
}
