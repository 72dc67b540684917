// docs/troubleshooting.md must explain every error the library raises: each error class (by class name and by
// the `name` it reports), each message template the classes build, every `new …Error(…)` message written in
// src/, and every `raise exception` in the schema's SQL. A message counts as documented when its longest fixed
// piece of text appears in the page (whitespace aside), so a new or reworded message fails this test until the
// page says what it means and how to fix it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as errors from '../../src/errors/index.ts';
import { normalizeText, sourceErrorSites, sqlErrorSites, stringLiteralsOf, type ErrorSite } from './support/error-messages.ts';
import { repositoryRoot } from './support/markdown-code-blocks.ts';

const page = normalizeText(readFileSync(join(repositoryRoot, 'docs', 'troubleshooting.md'), 'utf8'));
/** Shorter fixed text ("at", "string") says nothing about which message it is; such sites rely on their class. */
const shortestTelling = 12;

function undocumented(sites: ErrorSite[]): string[] {
  return sites
    .filter((site) => (site.fragments[0]?.length ?? 0) >= shortestTelling && !page.includes(site.fragments[0] as string))
    .map((site) => `${site.location} (${site.kind}): "${site.fragments[0]}"`);
}

test('every error class is explained, by class name and by the name it reports', () => {
  const missing: string[] = [];
  for (const [exportName, value] of Object.entries(errors)) {
    if (typeof value !== 'function') continue;
    if (!page.includes(exportName)) missing.push(exportName);
    const reportedName = exportName === 'AiSdkAbsurdError' ? undefined : `AiSdkAbsurd${exportName.replace(/Error$/, '')}Error`;
    if (reportedName && !page.includes(reportedName)) missing.push(reportedName);
  }
  assert.ok(Object.keys(errors).length >= 9, 'the error classes were not found');
  assert.deepEqual(missing, []);
});

test('the message templates of the error classes are quoted', () => {
  const templates = readErrorClassTemplates();
  assert.ok(templates.length >= 4, `only ${templates.length} message templates found`);
  assert.deepEqual([...new Set(templates.filter((fragment) => !page.includes(fragment)))], []);
});

test('every error message written in src/ is explained', () => {
  const sites = sourceErrorSites().filter((site) => !site.location.startsWith('src/errors/'));
  assert.ok(sites.length > 30, `only ${sites.length} error sites found`);
  assert.deepEqual(undocumented(sites), []);
});

test('every error the schema raises is explained', () => {
  const sites = sqlErrorSites();
  assert.ok(sites.length > 30, `only ${sites.length} raise statements found`);
  assert.deepEqual(undocumented(sites), []);
});

/** Default messages the classes in src/errors build themselves: the fixed text of their string literals. */
function readErrorClassTemplates(): string[] {
  const folder = join(repositoryRoot, 'src', 'errors');
  const fragments: string[] = [];
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) {
    for (const fragment of stringLiteralsOf(readFileSync(join(folder, file), 'utf8'))) {
      // Messages are sentences; identifiers and marker strings have no spaces.
      if (fragment.length >= shortestTelling && /\s/.test(fragment)) fragments.push(fragment);
    }
  }
  return fragments;
}
