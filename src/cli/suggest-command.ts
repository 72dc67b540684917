// The follow-up commands the CLI prints ("see one run in detail: …") are meant to be copied and run as printed: they
// start the way this process was started and carry the --db and --queue the user gave.
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const mainModule = fileURLToPath(new URL('./main.ts', import.meta.url));

/**
 * How to start this CLI again from the current directory: `npx ai-sdk-absurd` for the installed package, or
 * `node <path>/src/cli/main.ts` when it runs from a clone's TypeScript sources.
 */
export function cliInvocation(): string {
  if (!import.meta.url.endsWith('.ts')) return 'npx ai-sdk-absurd';
  const path = relative(process.cwd(), mainModule);
  return `node ${shellQuote(path.startsWith('..') || isAbsolute(path) ? mainModule : path)}`;
}

/**
 * A complete command line: the invocation, the words, then `--db` and `--queue` when the user passed them (a
 * database taken from ABSURD_DATABASE_URL is found again the same way, so it is left out).
 *
 * @example
 * suggestCommand(['show', taskID], { db: 'pglite:./.data/absurd' });
 * // npx ai-sdk-absurd show 019a… --db pglite:./.data/absurd
 */
export function suggestCommand(words: readonly string[], context: { db?: string; queue?: string } = {}): string {
  const parts = [...words];
  if (context.db !== undefined) parts.push('--db', context.db);
  if (context.queue !== undefined) parts.push('--queue', context.queue);
  return [cliInvocation(), ...parts.map(shellQuote)].join(' ');
}

/** Leaves plain words as they are and single-quotes anything a POSIX shell would split or expand. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
