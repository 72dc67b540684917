// examples/chat end to end: real web and worker processes, a real database (PGlite, or Postgres with
// TEST_DATABASE_URL), the real OpenAI provider against the example's scripted model, and Debian's Chromium driven
// by playwright-core. A turn's answer streams into the page; the worker is SIGKILLed mid-answer and a new one
// finishes it with a different answer (as a real model's may be) while the page stays open, so the page must drop
// the lost partial answer; the page is reloaded mid-answer and resumes it. Each answer is shown once, with its
// tool call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUIMessageStream, type UIMessage } from 'ai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AbsurdChatTransport } from '../../src/chat/index.ts';
import { revenueAnswer, revisedAnswer, startScriptedChatModel } from '../../examples/chat/scripted-chat-model.ts';
import type { OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { createChildDatabase, type ChildDatabase } from '../docs/support/child-database.ts';
import { repositoryRoot } from '../docs/support/markdown-code-blocks.ts';
import { startChatExample, type ChatExample } from './chat-example-processes.ts';

const chromiumPath = '/usr/bin/chromium';
const noChromium = !existsSync(chromiumPath) && `${chromiumPath} is missing: install Debian's chromium (apt-get install -y chromium)`;
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const answerQ1 = revenueAnswer('Q1', 1_200_000);
const answerQ2 = revenueAnswer('Q2', 1_450_000);
/** Turn 1's answer once its worker was killed mid-answer and the answer was asked again. */
const revisedQ1 = revisedAnswer(answerQ1);
const waitMs = 90_000;

let model: OpenAICompatibleServer;
let database: ChildDatabase;
let scratch: string;
let example: ChatExample;
/** What the page logged and which of its requests failed, for failure messages. */
const pageLog: string[] = [];

/** Text of the `index`-th assistant message on the page ('' while it has none). */
function assistantText(page: Page, index: number): Promise<string> {
  return page.evaluate((position) => {
    const message = document.querySelectorAll('[data-testid="message"][data-role="assistant"]')[position];
    return [...(message?.querySelectorAll('[data-testid="text"]') ?? [])].map((part) => part.textContent ?? '').join('');
  }, index);
}

/** Waits until the `index`-th assistant message's text satisfies `condition` (evaluated in the page). */
async function waitForAssistantText(page: Page, index: number, condition: 'some' | { equals: string }): Promise<void> {
  await page
    .waitForFunction(
      ({ position, expected }) => {
        const message = document.querySelectorAll('[data-testid="message"][data-role="assistant"]')[position];
        const text = [...(message?.querySelectorAll('[data-testid="text"]') ?? [])].map((part) => part.textContent ?? '').join('');
        return expected === null ? text.length > 0 : text === expected;
      },
      { position: index, expected: condition === 'some' ? null : condition.equals },
      { timeout: waitMs, polling: 50 },
    )
    .catch(async (error: Error) => {
      const shown = await assistantText(page, index).catch(() => '(page gone)');
      const status = await page.getByTestId('status').innerText({ timeout: 1000 }).catch(() => '(no status line)');
      const stored = await storedAnswer(new URL(page.url()).searchParams.get('chat') ?? '');
      throw new Error(
        `${error.message}\nassistant message ${index} shows: ${JSON.stringify(shown)}\nstatus line: ${status}\n` +
          `the server's stream of the latest turn: ${stored}\npage log:\n${pageLog.slice(-30).join('\n')}\n${example.output().slice(-4000)}`,
      );
    });
}

/** What the web process streams for the chat's latest turn within a few seconds, for failure messages. */
async function storedAnswer(chatId: string): Promise<string> {
  let body = '';
  try {
    const response = await fetch(`${example.url}/api/chat/${encodeURIComponent(chatId)}/stream?startIndex=0`, { signal: AbortSignal.timeout(5000) });
    if (response.status === 204) return 'none (204)';
    const decoder = new TextDecoder();
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) body += decoder.decode(bytes, { stream: true });
  } catch (error) {
    body += `\n(${(error as Error).message})`;
  }
  const chunks = body.split('\n').filter((line) => line.startsWith('data: {')).map((line) => JSON.parse(line.slice(6)) as { type: string; delta?: string });
  const text = chunks.map((chunk) => (chunk.type === 'text-delta' ? chunk.delta : '')).join('');
  const framing = chunks.filter((chunk) => chunk.type !== 'text-delta').map((chunk) => chunk.type);
  return `${chunks.length} chunks ${JSON.stringify(framing)}, text ${JSON.stringify(text)}${body.endsWith(')') ? body.slice(body.lastIndexOf('\n')) : ''}`;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('examples/chat', () => {
  before(
    async () => {
      scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-chat-'));
      model = await startScriptedChatModel({ eventDelayMs: 40, textChunkLength: 4, reviseRepeatedAnswers: true });
      database = await createChildDatabase();
      example = await startChatExample({ databaseUrl: database.url, modelBaseURL: model.baseURL, cwd: scratch, claimTimeoutSeconds: 5 });
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await example?.close();
    await model?.close();
    await database?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('a turn over HTTP: the answer streams with its tool call, and a reconnect from 0 replays it once', async () => {
    const api = `${example.url}/api/chat`;
    const question: UIMessage = { id: 'http-q1', role: 'user', parts: [{ type: 'text', text: 'What was the revenue of Q1?' }] };
    const transport = new AbsurdChatTransport({ api });
    const stream = await transport.sendMessages({ trigger: 'submit-message', chatId: 'http-chat', messageId: undefined, messages: [question], abortSignal: undefined });
    const live = await lastMessage(stream);
    assertAnswer(live, answerQ1);
    const chunks = transport.receivedChunks('http-chat');
    assert.ok(chunks > 10, `only ${chunks} chunks were received`);
    // A page that reloads has a new transport: it asks from 0 and gets the whole answer once.
    const replayed = await new AbsurdChatTransport({ api }).reconnectToStream({ chatId: 'http-chat' });
    assert.ok(replayed, 'the chat has a turn to resume');
    assert.deepEqual(await lastMessage(replayed), live);
    // The same transport asks only for what it has not received: nothing is left.
    const rest = await transport.reconnectToStream({ chatId: 'http-chat' });
    assert.ok(rest);
    assert.equal(await lastMessage(rest), undefined);
    assert.equal((await fetch(`${api}/nobody/stream?startIndex=0`)).status, 204);
    const history = (await (await fetch(`${api}/http-chat/messages`)).json()) as { messages: UIMessage[] };
    assert.deepEqual(history.messages.map((message) => message.id), ['http-q1']);
  });

  test('refuses cross-site and malformed chat requests with a message that says what was wrong', async () => {
    const api = `${example.url}/api/chat`;
    const valid = JSON.stringify({ id: 'refused', messages: [{ id: 'u', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] });
    const post = (headers: Record<string, string>, body = valid) => fetch(api, { method: 'POST', headers, body });
    const cases: Array<[Promise<Response>, number, RegExp]> = [
      [post({ 'content-type': 'text/plain' }), 415, /application\/json/],
      [post({ 'content-type': 'application/x-www-form-urlencoded' }), 415, /application\/json/],
      [post({ 'content-type': 'application/json', origin: 'http://attacker.example' }), 403, /http:\/\/attacker\.example are refused/],
      [post({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }), 403, /Cross-site/],
      [post({ 'content-type': 'application/json' }, '{"id":'), 400, /not JSON/],
      [post({ 'content-type': 'application/json' }, JSON.stringify({ id: '../etc', messages: [] })), 400, /chat id/],
      [post({ 'content-type': 'application/json' }, JSON.stringify({ id: 'refused', messages: [{ role: 'robot' }] })), 400, /not valid UI messages/],
      [post({ 'content-type': 'application/json' }, JSON.stringify({ id: 'refused', messages: [{ id: 'a', role: 'assistant', parts: [{ type: 'text', text: 'x' }] }] })), 400, /last message/],
      [fetch(`${api}/refused/stream?startIndex=-1`), 400, /startIndex/],
    ];
    for (const [response, status, message] of cases) {
      const answered = await response;
      assert.equal(answered.status, status, `${answered.url}: ${await answered.clone().text()}`);
      assert.match(await answered.text(), message);
    }
    // Nothing refused was stored as a turn.
    assert.equal((await fetch(`${api}/refused/stream?startIndex=0`)).status, 204);
  });

  test(
    'in Chromium: the answer streams in, survives a SIGKILLed worker and a reload, and is shown once with its tool call',
    { skip: noChromium },
    async () => {
      const profile = await mkdtemp(join(scratch, 'chromium-profile-'));
      const context: BrowserContext = await chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath,
        args: chromiumArgs,
        headless: true,
        viewport: { width: 900, height: 820 },
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const foreignRequests: string[] = [];
        const pageErrors: string[] = [];
        page.on('request', (request) => {
          if (!request.url().startsWith(`${example.url}/`)) foreignRequests.push(request.url());
        });
        page.on('pageerror', (error) => pageErrors.push(error.message));
        page.on('console', (message) => pageLog.push(`console ${message.type()}: ${message.text()}`));
        page.on('requestfailed', (request) => pageLog.push(`failed ${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
        page.on('response', (response) => pageLog.push(`${response.status()} ${response.request().method()} ${response.url()}`));
        await page.goto(example.url);

        // Turn 1: text arrives while the model still streams; the worker is killed mid-answer and, without a
        // reload, a new worker asks the model again and gets a revised answer: the page drops the lost partial
        // text (the stream's superseded marker and reset-step) and shows the revised answer alone.
        await send(page, 'How was revenue in Q1?');
        await waitForAssistantText(page, 0, 'some');
        const partial = await assistantText(page, 0);
        assert.ok(answerQ1.startsWith(partial) && partial.length < answerQ1.length, `not mid-answer: ${JSON.stringify(partial)}`);
        await example.killWorker();
        await example.startWorker();
        await waitForAssistantText(page, 0, { equals: revisedQ1 });
        await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.getAttribute('data-status') === 'ready', null, { timeout: waitMs });
        assert.equal(await assistantText(page, 0), revisedQ1);
        assert.equal(await page.locator('[data-testid="tool-call"]').count(), 1, 'turn 1 shows its one tool call');

        // Turn 2: the page is reloaded mid-answer and resumes it; the text only ever grows after the reload.
        await send(page, 'And in Q2?');
        await waitForAssistantText(page, 1, 'some');
        await page.addInitScript(recordAssistantTexts, 1);
        await page.reload();
        await waitForAssistantText(page, 1, { equals: answerQ2 });
        const seen = (await page.evaluate(() => (window as unknown as { assistantTexts: string[] }).assistantTexts)) ?? [];
        assert.ok(seen.length > 0, 'the recorder saw the resumed answer');
        seen.forEach((text, position) => {
          const next = seen[position + 1] ?? answerQ2;
          assert.ok(next.startsWith(text), `the resumed answer went from ${JSON.stringify(text)} to ${JSON.stringify(next)}`);
        });

        // The stream ends (`finish`), and the whole conversation shows each answer once, each with its one tool
        // call; model text is shown as text.
        await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.getAttribute('data-status') === 'ready', null, { timeout: waitMs });
        const roles = await page.locator('[data-testid="message"]').evaluateAll((items) => items.map((item) => item.getAttribute('data-role')));
        assert.deepEqual(roles, ['user', 'assistant', 'user', 'assistant']);
        const body = await page.locator('body').innerText();
        assert.equal(occurrences(body, revisedQ1), 1, body);
        assert.equal(occurrences(body, answerQ1), 1, body);
        assert.equal(occurrences(body, answerQ2), 1, body);
        const tools = await page.locator('[data-testid="tool-call"]').allInnerTexts();
        assert.equal(tools.length, 2, tools.join('\n'));
        assert.match(tools[0] ?? '', /getRevenue\(\{"quarter":"Q1"\}\)[\s\S]*1200000/);
        assert.match(tools[1] ?? '', /getRevenue\(\{"quarter":"Q2"\}\)[\s\S]*1450000/);
        assert.equal(await page.locator('[data-testid="text"] *').count(), 0, 'model output is rendered as text, never as HTML');
        assert.deepEqual(foreignRequests, [], 'the page loads nothing from another site');
        assert.deepEqual(pageErrors, []);
        // No model call whose answer had been delivered was asked again (the tool-call step is a checkpoint).
        assert.deepEqual(model.repeatedRequests().map((request) => request.index), []);

        const screenshot = join(scratch, 'chat-example.png');
        await page.screenshot({ path: screenshot, fullPage: true });
        if (process.env.UPDATE_DOCS_SCREENSHOT) {
          await mkdir(join(repositoryRoot, 'docs', 'images'), { recursive: true });
          await copyFile(screenshot, join(repositoryRoot, 'docs', 'images', 'chat-example.png'));
        }
      } finally {
        await context.close();
      }
    },
  );
});

/** Runs in the page before its scripts: records each new text of the `index`-th assistant message. */
function recordAssistantTexts(index: number): void {
  const texts: string[] = [];
  (window as unknown as { assistantTexts: string[] }).assistantTexts = texts;
  new MutationObserver(() => {
    const message = document.querySelectorAll('[data-testid="message"][data-role="assistant"]')[index];
    if (!message) return;
    const text = [...message.querySelectorAll('[data-testid="text"]')].map((part) => part.textContent ?? '').join('');
    if (text.length > 0 && text !== texts.at(-1)) texts.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

async function lastMessage(stream: ReadableStream<import('ai').UIMessageChunk>): Promise<UIMessage | undefined> {
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream })) last = message;
  return last;
}

function assertAnswer(message: UIMessage | undefined, answer: string): void {
  assert.ok(message, 'an assistant message was streamed');
  assert.equal(message.role, 'assistant');
  const text = message.parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  assert.equal(text, answer);
  const tools = message.parts.filter((part) => part.type === 'tool-getRevenue');
  assert.equal(tools.length, 1, JSON.stringify(message.parts));
  assert.deepEqual((tools[0] as { output?: unknown }).output, { quarter: 'Q1', revenue: 1_200_000 });
}
