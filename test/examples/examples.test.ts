// Every program in examples/ runs to completion here, against a fresh database (embedded PGlite, or Postgres with
// TEST_DATABASE_URL) and the demo's scripted model behind the real OpenAI provider (OPENAI_BASE_URL). Each test
// checks what the example claims to show, and the examples that mirror documentation pages are checked to be
// the same code as the page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startScriptedModelServer, type ScriptedModelServer } from '../../src/demo/scripted-model-server.ts';
import { usingPostgres } from '../support/test-database.ts';
import { createChildDatabase, type ChildDatabase } from '../docs/support/child-database.ts';
import { codeBlocksOf, repositoryRoot } from '../docs/support/markdown-code-blocks.ts';
import { describeRun, runNode, type NodeRun } from '../docs/support/run-node.ts';

const examples = join(repositoryRoot, 'examples');
/** The programs this suite runs, and the files that are parts of them rather than programs of their own. */
const programs = [
  'tutorial/run.ts',
  'tutorial/result.ts',
  'side-effects.ts',
  'conversation.ts',
  'mcp/analyse.ts',
  'approval.ts',
  'production/web.ts',
  'production/worker.ts',
];
const parts = ['tutorial/analyst.ts', 'tutorial/analyse-task.ts', 'mcp/revenue-server.ts'];
/** The chat example (a web process, a worker and a browser page), run by test/browser/chat.test.ts. */
const chatExample = [
  'chat/start.ts',
  'chat/web.ts',
  'chat/worker.ts',
  'chat/chat-client.ts',
  'chat/chat-model.ts',
  'chat/chat-routes.ts',
  'chat/chat-store.ts',
  'chat/chat-task.ts',
  'chat/chat-web.ts',
  'chat/chat-worker.ts',
  'chat/page-bundle.ts',
  'chat/scripted-chat-model.ts',
  'chat/page/main.ts',
  'chat/page/chat-app.ts',
  'chat/page/chat-view.ts',
  'chat/page/message-view.ts',
];

let model: ScriptedModelServer;
let scratch: string;

async function runExample(file: string, database: ChildDatabase, args: string[] = []): Promise<NodeRun> {
  assert.ok(programs.includes(file), `${file} is not listed in this suite's programs`);
  const cwd = await mkdtemp(join(scratch, 'run-'));
  const result = await runNode(join(examples, file), args, {
    cwd,
    env: { ABSURD_DATABASE_URL: database.url, OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: 'scripted', AI_GATEWAY_API_KEY: undefined },
    timeoutMs: 180_000,
  });
  assert.equal(result.code, 0, describeRun(file, result));
  return result;
}

async function withDatabase<T>(use: (database: ChildDatabase) => Promise<T>): Promise<T> {
  const database = await createChildDatabase();
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}

describe('examples', () => {
  before(async () => {
    model = await startScriptedModelServer({ thinkMs: 0 });
    scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-examples-'));
  });

  after(async () => {
    await model?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('tutorial: run.ts finishes the task; result.ts reads it from another process', async () => {
    await withDatabase(async (database) => {
      const first = await runExample('tutorial/run.ts', database);
      const taskID = /Spawned task ([0-9a-f-]{36})/.exec(first.stdout)?.[1];
      assert.ok(taskID, first.stdout);
      assert.match(first.stdout, /state: 'completed'/);
      assert.match(first.stdout, /\(tool\) looking up Q1[\s\S]*\(tool\) saving a note/);
      // The idempotency key finds the finished task; nothing runs again.
      const second = await runExample('tutorial/run.ts', database);
      assert.match(second.stdout, new RegExp(`Found task ${taskID}`));
      assert.doesNotMatch(second.stdout, /\(tool\)/);
      const result = await runExample('tutorial/result.ts', database, [taskID]);
      assert.match(result.stdout, /Report: \{[\s\S]*report: 'Revenue grew/);
    });
  });

  test('side-effects.ts: the tool runs twice across a crash, the email is sent once', async () => {
    await withDatabase(async (database) => {
      const result = await runExample('side-effects.ts', database);
      assert.match(result.stdout, /sendEmail ran on attempt 1: email queued/);
      assert.match(result.stdout, /first worker process was killed by SIGKILL/);
      assert.match(result.stdout, /sendEmail ran on attempt 2: already queued, nothing sent/);
      assert.match(result.stdout, /task completed; emails in the outbox: 1/);
    });
  });

  test('conversation.ts: three turns, each a task, the last one using the first two', async () => {
    await withDatabase(async (database) => {
      const result = await runExample('conversation.ts', database);
      const answers = result.stdout.split('\n').filter((line) => line.startsWith('assistant:'));
      assert.equal(answers.length, 3);
      assert.match(answers[2] ?? '', /Q1 \$1\.20M, Q2 \$1\.45M/);
      assert.match(result.stdout, /The conversation now holds \d+ messages/);
    });
  });

  test('mcp/analyse.ts: an agent with tools from an MCP server over stdio', async () => {
    await withDatabase(async (database) => {
      const result = await runExample('mcp/analyse.ts', database);
      assert.match(result.stdout, /state: 'completed'/);
      assert.match(result.stdout, /toolCalls: \[ 'getRevenue', 'getRevenue', 'recordNote' \]/);
    });
  });

  test('approval.ts: the task waits for a decision, then runs the approved tool once', async () => {
    await withDatabase(async (database) => {
      const result = await runExample('approval.ts', database);
      assert.match(result.stdout, /waiting for approval: recordNote/);
      assert.match(result.stdout, /state: 'completed'/);
      assert.match(result.stdout, /notes saved: 1/);
    });
  });

  test(
    'production: a web process spawns over HTTP, a separate worker process runs the task',
    { skip: !usingPostgres && 'two processes need Postgres (set TEST_DATABASE_URL); an embedded database belongs to one process' },
    async () => {
      await withDatabase(async (database) => {
        const port = await freePort();
        const env = { ...process.env, ABSURD_DATABASE_URL: database.url, PORT: String(port), OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: 'scripted' };
        const processes: ChildProcess[] = [];
        const output: string[] = [];
        const start = (file: string) => {
          const child = spawn(process.execPath, [join(examples, file)], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
          child.stdout?.on('data', (chunk) => output.push(`${file}: ${chunk}`));
          child.stderr?.on('data', (chunk) => output.push(`${file}: ${chunk}`));
          processes.push(child);
          return child;
        };
        try {
          const worker = start('production/worker.ts');
          start('production/web.ts');
          const spawnResponse = await retry(() =>
            fetch(`http://127.0.0.1:${port}/analyses`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'idempotency-key': 'request-1' },
              body: JSON.stringify({ question: 'How was revenue in Q1?' }),
            }),
          ).catch((error: Error) => {
            throw new Error(`The web process did not answer: ${error.message}\n${output.join('')}`);
          });
          assert.equal(spawnResponse.status, 202);
          const { taskID } = (await spawnResponse.json()) as { taskID: string };
          // A retried request with the same key gets the same task.
          const retried = await fetch(`http://127.0.0.1:${port}/analyses`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': 'request-1' },
            body: JSON.stringify({ question: 'How was revenue in Q1?' }),
          });
          assert.equal(((await retried.json()) as { taskID: string }).taskID, taskID);
          let snapshot: { state: string; result?: { report: string } } = { state: 'pending' };
          for (let polls = 0; polls < 600 && snapshot.state !== 'completed'; polls++) {
            snapshot = (await (await fetch(`http://127.0.0.1:${port}/analyses/${taskID}`)).json()) as typeof snapshot;
            if (snapshot.state !== 'completed') await delay(100);
          }
          assert.equal(snapshot.state, 'completed', output.join(''));
          assert.match(snapshot.result?.report ?? '', /Q1 \$1\.20M/);
          const missing = await fetch(`http://127.0.0.1:${port}/analyses/00000000-0000-7000-8000-000000000000`);
          assert.equal(missing.status, 404);
          // The worker stops cleanly on SIGTERM.
          worker.kill('SIGTERM');
          const code = await new Promise<number | null>((resolve) => worker.once('exit', (exitCode) => resolve(exitCode)));
          assert.equal(code, 0, output.join(''));
        } finally {
          for (const child of processes) child.kill('SIGKILL');
        }
      });
    },
  );

  test('every example is run by this suite', async () => {
    const files = (await readdir(examples, { recursive: true }))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => relative(examples, join(examples, name)))
      .sort();
    assert.deepEqual(files, [...programs, ...parts, ...chatExample].sort(), 'list each new example in `programs` and test it');
  });

  test('the tutorial and production examples are the code of their documentation pages', async () => {
    for (const [page, folder] of [
      ['docs/tutorial.md', 'tutorial'],
      ['docs/production.md', 'production'],
    ] as const) {
      const blocks = codeBlocksOf(page).filter((block) => typeof block.attributes.get('file') === 'string');
      assert.ok(blocks.length > 0, `${page} has no file= blocks`);
      for (const block of blocks) {
        const file = `${folder}/${block.attributes.get('file')}`;
        const example = await readFile(join(examples, file), 'utf8');
        assert.equal(
          example.trimEnd().replace(/from '(\.\.\/)+src\/index\.ts'/g, "from 'ai-sdk-absurd'"),
          block.code.trimEnd(),
          `examples/${file} differs from its block in ${page} (line ${block.line})`,
        );
      }
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function retry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= 100) throw error;
      await delay(100);
    }
  }
}
