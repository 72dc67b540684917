// Finds every error message the library can raise: each `new …Error(…)` in src/ and each `raise exception '…'`
// in the SQL migrations, reduced to the fixed text of the message (the parts between interpolations).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from './markdown-code-blocks.ts';

export interface ErrorSite {
  /** `src/agent/run-scope.ts:42` */
  readonly location: string;
  /** The error class constructed, or `raise exception` for SQL. */
  readonly kind: string;
  /** The fixed pieces of the message text, longest first. */
  readonly fragments: readonly string[];
}

export function sourceErrorSites(): ErrorSite[] {
  const files = readdirSync(join(repositoryRoot, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join('src', name))
    .sort();
  const sites: ErrorSite[] = [];
  for (const file of files) {
    const source = readFileSync(join(repositoryRoot, file), 'utf8');
    for (const match of source.matchAll(/\bnew\s+([A-Za-z]*Error)\s*\(/g)) {
      const open = (match.index ?? 0) + match[0].length - 1;
      const fragments = literalTexts(source, open);
      sites.push({ location: `${file}:${lineOf(source, match.index ?? 0)}`, kind: match[1] as string, fragments: byLength(fragments) });
    }
  }
  return sites;
}

export function sqlErrorSites(): ErrorSite[] {
  const folder = join(repositoryRoot, 'sql', 'migrations');
  const sites: ErrorSite[] = [];
  for (const name of readdirSync(folder).filter((entry) => entry.endsWith('.sql')).sort()) {
    const source = readFileSync(join(folder, name), 'utf8');
    for (const match of source.matchAll(/raise\s+exception\s+'((?:[^']|'')*)'/gi)) {
      const text = (match[1] as string).replace(/''/g, "'");
      sites.push({
        location: `sql/migrations/${name}:${lineOf(source, match.index ?? 0)}`,
        kind: 'raise exception',
        fragments: byLength(text.split(/%+/)),
      });
    }
  }
  return sites;
}

/** The fixed text of every string and template literal in a source file (comments skipped). */
export function stringLiteralsOf(source: string): string[] {
  return byLength(literalTexts(`(${source}\n)`, 0));
}

/** Collapses whitespace so that a message wrapped across lines in the documentation still matches. */
export function normalizeText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function byLength(fragments: string[]): string[] {
  return fragments.map(normalizeText).filter((fragment) => fragment.length > 0).sort((left, right) => right.length - left.length);
}

function lineOf(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

/**
 * The static text of every string and template literal inside the parenthesised argument list that opens at
 * `open`, including literals nested in template interpolations. Comments are skipped.
 */
function literalTexts(source: string, open: number): string[] {
  const texts: string[] = [];
  let index = open;
  let depth = 0;
  while (index < source.length) {
    const character = source[index] as string;
    if (character === '/' && source[index + 1] === '/') {
      index = source.indexOf('\n', index);
      if (index < 0) break;
      continue;
    }
    if (character === '/' && source[index + 1] === '*') {
      index = source.indexOf('*/', index) + 2;
      continue;
    }
    if (character === "'" || character === '"') {
      const end = quotedEnd(source, index, character);
      texts.push(unescape(source.slice(index + 1, end)));
      index = end + 1;
      continue;
    }
    if (character === '`') {
      index = readTemplate(source, index, texts);
      continue;
    }
    if ('([{'.includes(character)) depth++;
    if (')]}'.includes(character)) {
      depth--;
      if (depth === 0) break;
    }
    index++;
  }
  return texts;
}

function quotedEnd(source: string, start: number, quote: string): number {
  let index = start + 1;
  while (index < source.length && source[index] !== quote) index += source[index] === '\\' ? 2 : 1;
  return index;
}

/** Reads a template literal starting at the backtick; pushes its static parts; returns the index after it. */
function readTemplate(source: string, start: number, texts: string[]): number {
  let index = start + 1;
  let current = '';
  while (index < source.length) {
    const character = source[index] as string;
    if (character === '\\') {
      current += source.slice(index, index + 2);
      index += 2;
      continue;
    }
    if (character === '`') {
      texts.push(unescape(current));
      return index + 1;
    }
    if (character === '$' && source[index + 1] === '{') {
      texts.push(unescape(current));
      current = '';
      // The interpolation may hold literals of its own (nested templates, quoted strings).
      let depth = 0;
      index += 1;
      while (index < source.length) {
        const inner = source[index] as string;
        if (inner === "'" || inner === '"') {
          const end = quotedEnd(source, index, inner);
          texts.push(unescape(source.slice(index + 1, end)));
          index = end + 1;
          continue;
        }
        if (inner === '`') {
          index = readTemplate(source, index, texts);
          continue;
        }
        if (inner === '{') depth++;
        if (inner === '}') {
          depth--;
          if (depth === 0) {
            index++;
            break;
          }
        }
        index++;
      }
      continue;
    }
    current += character;
    index++;
  }
  return index;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_match, escaped: string) => (escaped === 'n' ? '\n' : escaped));
}
