// Finds the fenced code blocks of the Markdown documentation, with the attributes of their info string:
//   ```ts                      a module, type-checked
//   ```ts file=worker.ts       written under that name, so other blocks of the same page can import it
//   ```ts runnable             type-checked, then executed (exit code 0 expected); a page's runnable blocks run
//                              in order against one database
//   ```ts runnable args-from=run.ts    executed with the first task id that run.ts printed as its argument
//   ```ts no-check             a fragment; exempt from type-checking, and required not to compile on its own
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const repositoryRoot = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');

export interface CodeBlock {
  /** Path of the Markdown file, relative to the repository root. */
  readonly document: string;
  /** 1-based line of the block's first code line. */
  readonly line: number;
  readonly language: string;
  readonly attributes: ReadonlyMap<string, string | true>;
  readonly code: string;
}

/** README.md and every Markdown file under docs/, relative to the repository root. */
export function documentationFiles(): string[] {
  const docs = readdirSync(join(repositoryRoot, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name))
    .sort();
  return ['README.md', ...docs];
}

export function codeBlocksOf(document: string): CodeBlock[] {
  const lines = readFileSync(join(repositoryRoot, document), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { fence: string; info: string; start: number; body: string[] } | undefined;
  lines.forEach((text, index) => {
    if (!open) {
      const match = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(text);
      if (match) open = { fence: match[2] as string, info: (match[3] as string).trim(), start: index + 2, body: [] };
      return;
    }
    if (text.trim().startsWith(open.fence) && text.trim().replace(/[`~]/g, '') === '') {
      const [language = '', ...words] = open.info.split(/\s+/).filter(Boolean);
      const attributes = new Map<string, string | true>();
      for (const word of words) {
        const [key, value] = word.split('=', 2) as [string, string | undefined];
        attributes.set(key, value ?? true);
      }
      blocks.push({ document, line: open.start, language, attributes, code: open.body.join('\n') });
      open = undefined;
      return;
    }
    open.body.push(text);
  });
  if (open) throw new Error(`${document}: the code block opened at line ${open.start - 1} is never closed`);
  return blocks;
}

export function isTypeScript(block: CodeBlock): boolean {
  return block.language === 'ts' || block.language === 'typescript';
}

/** Relative links (`[text](path)` and `[text](path#anchor)`) of a document that point into the repository. */
export function relativeLinksOf(document: string): Array<{ target: string; line: number }> {
  const links: Array<{ target: string; line: number }> = [];
  let inFence = false;
  readFileSync(join(repositoryRoot, document), 'utf8')
    .split('\n')
    .forEach((text, index) => {
      if (/^\s*(`{3,}|~{3,})/.test(text)) inFence = !inFence;
      if (inFence) return;
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] as string;
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        links.push({ target: target.split('#')[0] as string, line: index + 1 });
      }
    });
  return links;
}

export function displayPath(path: string): string {
  return relative(repositoryRoot, path);
}
