// Debian's chromium, headless, driven by playwright-core, with a fresh profile each time: the one way the
// browser suites open a page. The network is closed, so only local servers are reachable.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser suites cannot run here, or undefined when they can. */
export function chromiumSkipReason(): string | undefined {
  return existsSync(chromiumPath) ? undefined : `no browser at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

export interface ChromiumSession {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function openChromium(): Promise<ChromiumSession> {
  const profile = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
