// The dashboard in a real browser, on a database with real runs: completed, failed (with hostile output),
// waiting for approval, replayed after a crash, and one running. The timeline shows the right counts, a
// pending call is approved from the page and its task finishes, a running task is cancelled, and nothing
// the model wrote runs as HTML. Requests from another origin, or without the token, change nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/start-dashboard.ts';
import { openAgentHarness, scriptedModel, toolOutputsInPrompt, turnIndex, type AgentHarness } from '../agent/agent-harness.ts';
import { chromiumSkipReason, openChromium, type ChromiumSession } from '../support/chromium-browser.ts';

const skip = chromiumSkipReason();
const screenshots = mkdtempSync(join(tmpdir(), 'ai-sdk-absurd-dashboard-'));

/** Where a screenshot goes: docs/images with UPDATE_DOCS_SCREENSHOT=1, else a scratch folder (npm test changes no file). */
function screenshotPath(name: string): string {
  return process.env.UPDATE_DOCS_SCREENSHOT === '1' ? new URL(`../../docs/images/${name}`, import.meta.url).pathname : join(screenshots, name);
}
const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';

describe('dashboard', { skip }, () => {
  let harness: AgentHarness;
  let dashboard: RunningDashboard;
  let browser: ChromiumSession;
  const taskIDs = {} as Record<"completed" | "replayed" | "failed" | "waiting" | "running", string>;
  let releaseRunning: () => void = () => {};
  let runningWork: Promise<void> = Promise.resolve();

  before(async () => {
    harness = await openAgentHarness();
    const absurd = harness.absurd;
    const lookup = tool({ inputSchema: z.object({ q: z.string() }), execute: async ({ q }) => `${q} found` });
    const refund = tool({ inputSchema: z.object({ amount: z.number() }), needsApproval: true, execute: async ({ amount }) => `refunded ${amount}` });
    const script = (toolName: string, input: unknown) =>
      scriptedModel((options) =>
        turnIndex(options) === 0 ? { toolCalls: [{ toolCallId: 'call-1', toolName, input }] } : { text: `answer: ${toolOutputsInPrompt(options).join(' ')} ${hostile}` },
      );
    const analyst = new AbsurdAgent({ id: 'analyst', model: script('lookup', { q: 'revenue' }), tools: { lookup } }, absurd);
    const clerk = new AbsurdAgent({ id: 'clerk', model: script('refund', { amount: 42 }), tools: { refund } }, absurd);
    absurd.registerTask({ name: 'analyse' }, async () => ({ text: (await analyst.generate({ prompt: 'go' })).text }));
    absurd.registerTask({ name: 'refund' }, async () => ({ text: (await clerk.generate({ prompt: 'refund' })).text }));
    absurd.registerTask({ name: 'explode' }, async () => {
      throw new Error(`model said ${hostile}`);
    });
    absurd.registerTask({ name: 'long' }, async () => {
      await new Promise<void>((resolve) => {
        releaseRunning = resolve;
        setTimeout(resolve, 60_000).unref();
      });
      return { done: true };
    });

    taskIDs.completed = (await harness.run('analyse', {})).taskID;
    harness.crash.arm(2);
    taskIDs.replayed = (await harness.run('analyse', { note: 'crashed once' })).taskID;
    taskIDs.failed = (await harness.run('explode', {}, { maxAttempts: 1 })).taskID;
    taskIDs.waiting = (await absurd.spawn('refund', {})).taskID;
    await absurd.workBatch('dashboard-test', 60, 1);
    taskIDs.running = (await absurd.spawn('long', {})).taskID;
    runningWork = absurd.workBatch('dashboard-long', 60, 1);
    for (let wait = 0; wait < 100 && (await absurd.fetchTaskResult(taskIDs.running))?.state !== 'running'; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    dashboard = await startDashboard({ absurd, port: 0 });
    browser = await openChromium();
  });

  after(async () => {
    releaseRunning();
    await runningWork.catch(() => {});
    await browser?.close();
    await dashboard?.close();
    await harness?.close();
    rmSync(screenshots, { recursive: true, force: true });
  });

  test('queues, runs and a replayed run\'s timeline show what the database holds', async () => {
    const page = await browser.context.newPage();
    await page.goto(dashboard.urlWithToken);
    assert.equal(new URL(page.url()).search, '', 'the token moved from the URL into a cookie');
    const row = page.locator('tr', { hasText: harness.absurd.queue });
    assert.match(await row.innerText(), /\b2\b.*\b1\b/s);

    await page.goto(`${dashboard.url}runs?queue=${harness.absurd.queue}`);
    assert.equal(await page.locator('tbody tr').count(), 5);
    await page.goto(`${dashboard.url}runs?q=crashed`);
    assert.equal(await page.locator('tbody tr').count(), 1, 'text search in params');

    await page.goto(`${dashboard.url}runs/${taskIDs.replayed}`);
    assert.equal(await page.locator('#model-call-count').innerText(), '2');
    assert.equal(await page.locator('#replayed-count').innerText(), '1');
    assert.equal(await page.locator('tr.entry').count(), 3);
    assert.match(await page.locator('tr.entry-tool-call').innerText(), /input \{"q":"revenue"\}[\s\S]*output "revenue found"/);
    assert.equal(await page.locator('.replayed', { hasText: 'replayed on attempt 2' }).count(), 2);
    await page.screenshot({ path: screenshotPath('dashboard-run.png'), fullPage: true });
    await page.close();
  });

  test('model output and failures are shown as text, never run as HTML', async () => {
    const page = await browser.context.newPage();
    let dialogs = 0;
    page.on('dialog', (dialog) => {
      dialogs++;
      void dialog.dismiss();
    });
    await page.goto(`${dashboard.url}runs/${taskIDs.failed}`);
    assert.match(await page.locator('main').innerText(), /model said <img src=x onerror=/);
    await page.goto(`${dashboard.url}runs/${taskIDs.completed}`);
    assert.match(await page.locator('main').innerText(), /<script>window.__pwned=1<\/script>/);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('main img').count(), 0);
    assert.equal(dialogs, 0);
    await page.close();
  });

  test('a pending call is approved from the page, and its task finishes', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${dashboard.url}approvals`);
    const row = page.locator('tr', { hasText: taskIDs.waiting });
    assert.match(await row.innerText(), /refund[\s\S]*\{"amount":42\}/);
    await page.screenshot({ path: screenshotPath('dashboard-approvals.png') });
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/done=approved/);
    assert.match(await page.locator('main').innerText(), /Nothing is waiting for approval/);
    await harness.absurd.workBatch('dashboard-test', 60, 1);
    const result = await harness.absurd.fetchTaskResult(taskIDs.waiting);
    assert.equal(result?.state, 'completed');
    assert.match((result?.result as { text: string }).text, /refunded 42/);
    await page.close();
  });

  test('a running task is cancelled from its page', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${dashboard.url}runs/${taskIDs.running}`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/done=cancelled/);
    assert.equal((await harness.absurd.fetchTaskResult(taskIDs.running))?.state, 'cancelled');
    await page.close();
  });

  test('state changes need the token and the dashboard\'s own origin', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${dashboard.url}runs/${taskIDs.completed}/fork`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body, redirect: 'manual' });
    const origin = dashboard.url.replace(/\/$/, '');
    const cookie = `ai_sdk_absurd_dashboard=${dashboard.token}`;
    assert.equal((await post({ origin: 'http://evil.example', cookie }, `from=0&token=${dashboard.token}`)).status, 403, 'cross-site');
    assert.equal((await post({ origin }, `from=0&token=${dashboard.token}`)).status, 403, 'no cookie');
    assert.equal((await post({ origin, cookie }, 'from=0&token=wrong')).status, 403, 'wrong token');
    const allowed = await post({ origin, cookie }, `from=0&token=${dashboard.token}`);
    assert.equal(allowed.status, 303);
    assert.match(allowed.headers.get('location') ?? '', /^\/runs\/[0-9a-f-]{36}\?done=forked$/);
    const foreignHost = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(dashboard.url, { headers: { host: 'attacker.example' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    });
    assert.equal(foreignHost, 421, 'a foreign Host header (DNS rebinding) is refused');
  });
});
