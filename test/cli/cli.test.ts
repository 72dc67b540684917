// The `ai-sdk-absurd` command run as a child process, against embedded PGlite (default) or Postgres
// (TEST_DATABASE_URL): help and exit codes of every command, the schema commands, and `runs` / `show` reading a
// real agent task whose first attempt failed after its model and tool calls were checkpointed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { isStepCount, tool } from 'ai';
import { z } from 'zod';
import { Absurd, getCurrentTask } from '../../src/index.ts';
import { AbsurdAgent } from '../../src/agent/index.ts';
import { createProgram } from '../../src/cli/main.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { createTestDatabase, usingPostgres } from '../support/test-database.ts';
import { createChildDatabase, type ChildDatabase } from '../docs/support/child-database.ts';
import { describeRun, runNode, type NodeRun } from '../docs/support/run-node.ts';

const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const bin = new URL('../../bin/ai-sdk-absurd.js', import.meta.url).pathname;
const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function run(args: string[], env: Record<string, string | undefined> = {}): Promise<NodeRun> {
  return runNode(cli, args, { env: { ABSURD_DATABASE_URL: undefined, ...env }, timeoutMs: 120_000 });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function expectExit(result: NodeRun, code: number, label: string): void {
  assert.equal(result.code, code, describeRun(label, result));
}

describe('ai-sdk-absurd command line', () => {
  test('every command has --help, exiting 0', async () => {
    const names = createProgram().commands.map((command) => command.name());
    for (const expected of ['init', 'migrate', 'print-sql', 'schema-version', 'demo', 'queues', 'runs', 'show', 'cancel', 'retry', 'cleanup', 'approvals']) assert.ok(names.includes(expected), `no ${expected} command`);
    for (const name of names) {
      const result = await run([name, '--help']);
      expectExit(result, 0, `${name} --help`);
      assert.match(result.stdout, new RegExp(`Usage: ai-sdk-absurd ${name}`));
    }
    const top = await run(['--help']);
    expectExit(top, 0, '--help');
    for (const name of names) assert.match(top.stdout, new RegExp(`\\n  ${name}\\b`));
  });

  test('the bin entry point runs the same program', async () => {
    const result = await runNode(bin, ['print-sql']);
    expectExit(result, 0, 'bin print-sql');
    assert.match(result.stdout, /create schema if not exists absurd/i);
  });

  test('the bin runs the program exactly once, also through a link without the .js ending (as npx calls it)', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-bin-'));
    try {
      const link = join(directory, 'ai-sdk-absurd');
      await symlink(bin, link);
      const result = await runNode(link, ['--version']);
      expectExit(result, 0, 'linked bin --version');
      assert.deepEqual(result.stdout.trim().split('\n'), [version]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  test('usage errors exit 2 with a message', async () => {
    const unknown = await run(['frobnicate']);
    expectExit(unknown, 2, 'unknown command');
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const badLimit = await run(['runs', '--limit', 'zero', '--db', 'pglite:memory']);
    expectExit(badLimit, 2, 'runs --limit zero');
    assert.match(badLimit.stderr, /--limit/);
    const missingArgument = await run(['show']);
    expectExit(missingArgument, 2, 'show without a task id');
    assert.match(missingArgument.stderr, /missing required argument 'taskID'/);
    for (const command of ['cancel', 'retry']) {
      const result = await run([command]);
      expectExit(result, 2, `${command} without a task id`);
      assert.match(result.stderr, /missing required argument 'taskID'/);
    }
  });

  test('a command that needs a database says how to give one, exiting 1', async () => {
    const result = await run(['runs']);
    expectExit(result, 1, 'runs without a database');
    assert.match(result.stderr, /Pass --db <url> or set ABSURD_DATABASE_URL/);
    const unknownScheme = await run(['runs', '--db', 'mysql://localhost/x']);
    expectExit(unknownScheme, 1, 'runs with a mysql URL');
    assert.match(unknownScheme.stderr, /Unrecognised database URL/);
  });

  test('commands that read or change tasks refuse a pglite: directory without a database, creating nothing', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-missing-'));
    try {
      const missing = join(scratch, 'no', 'such', 'dir');
      const url = `pglite:${missing}`;
      const commands = [
        ['runs'],
        ['show', '00000000-0000-7000-8000-000000000000'],
        ['approvals'],
        ['schema-version'],
        ['queues'],
        ['cancel', '00000000-0000-7000-8000-000000000000'],
        ['retry', '00000000-0000-7000-8000-000000000000'],
        ['cleanup', '--ttl', '0'],
      ];
      for (const command of commands) {
        const result = await run([...command, '--db', url]);
        expectExit(result, 1, `${command[0]} --db ${url}`);
        assert.match(result.stderr, new RegExp(`No database exists at ${escapeRegExp(missing)} \\(--db is ${escapeRegExp(url)}\\)`));
        assert.match(result.stderr, /to create a new database there, run: .*init --db /);
      }
      const fromEnvironment = await run(['runs'], { ABSURD_DATABASE_URL: url });
      expectExit(fromEnvironment, 1, 'runs with ABSURD_DATABASE_URL naming a missing directory');
      assert.match(fromEnvironment.stderr, /No database exists at .*\(ABSURD_DATABASE_URL is pglite:/);
      const memory = await run(['runs', '--db', 'pglite:memory']);
      expectExit(memory, 1, 'runs --db pglite:memory');
      assert.match(memory.stderr, /a new and empty in-memory database/);
      assert.deepEqual(await readdir(scratch), [], 'a refused command left files behind');
      // init may create the database; afterwards the read commands find it.
      expectExit(await run(['init', '--db', url]), 0, 'init of a new directory');
      const runs = await run(['runs', '--db', url]);
      expectExit(runs, 0, 'runs after init');
      assert.match(runs.stdout, /No tasks/);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  test('print-sql prints the schema without touching a database', async () => {
    const result = await run(['print-sql']);
    expectExit(result, 0, 'print-sql');
    assert.match(result.stdout, /create or replace function absurd\.spawn_task/);
  });

  describe('schema commands', () => {
    let database: ChildDatabase;
    before(async () => {
      database = await createChildDatabase();
    });
    after(async () => {
      await database.close();
    });

    test('init installs the schema and a queue; migrate then has nothing to do', async () => {
      const init = await run(['init', '--queue', 'reports']);
      // ABSURD_DATABASE_URL is the documented fallback for --db.
      const initWithEnv = await run(['init', '--queue', 'reports'], { ABSURD_DATABASE_URL: database.url });
      expectExit(init, 1, 'init without a database');
      expectExit(initWithEnv, 0, 'init');
      assert.match(initWithEnv.stdout, /queue "reports" is ready/);
      const migrate = await run(['migrate', '--db', database.url]);
      expectExit(migrate, 0, 'migrate');
      assert.match(migrate.stdout, /nothing to do/);
      const runs = await run(['runs', '--db', database.url]);
      expectExit(runs, 0, 'runs on an empty queue');
      assert.match(runs.stdout, /No tasks/);
      const versions = await run(['schema-version', '--db', database.url, '--json']);
      expectExit(versions, 0, 'schema-version --json');
      const { database: installed, library } = JSON.parse(versions.stdout) as { database: number | null; library: number };
      assert.ok(Number.isInteger(library) && library > 0, versions.stdout);
      assert.equal(installed, library, 'init left the schema behind the library');
    });
  });

  test('runs against a Postgres database without the schema exits 3 and says how to install it', { skip: !usingPostgres && 'needs TEST_DATABASE_URL' }, async () => {
    const database = await createTestDatabase({ migrated: false });
    try {
      const result = await run(['runs', '--db', database.url]);
      expectExit(result, 3, 'runs on an empty Postgres database');
      assert.match(result.stderr, /no ai-sdk-absurd schema.*ai-sdk-absurd init/);
    } finally {
      await database.close();
    }
  });

  describe('runs and show on an agent task that needed two attempts', () => {
    let database: ChildDatabase;
    let model: OpenAICompatibleServer;
    let taskID: string;
    const executions: string[] = [];

    before(async () => {
      database = await createChildDatabase();
      model = await startOpenAICompatibleServer();
      // The first attempt fails on purpose; keep absurd-sdk from logging that expected failure.
      const quiet = { ...console, error: (...args: unknown[]) => void args };
      const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: 'reports', migrate: true, log: quiet });
      try {
        await absurd.createQueue();
        const analyst = new AbsurdAgent(
          {
            id: 'analyst',
            model: createOpenAI({ baseURL: model.baseURL, apiKey: 'test' })('gpt-test'),
            instructions: 'Look up the revenue of every quarter named, record a note, then report.',
            stopWhen: isStepCount(6),
            tools: {
              getRevenue: tool({
                inputSchema: z.object({ quarter: z.string() }),
                execute: async ({ quarter }) => {
                  executions.push(`getRevenue ${quarter}`);
                  return { quarter, revenue: quarter === 'Q1' ? 1000 : 2000 };
                },
              }),
              recordNote: tool({
                inputSchema: z.object({ text: z.string() }),
                execute: async ({ text }) => {
                  executions.push('recordNote');
                  return { saved: text.length };
                },
              }),
            },
          },
          absurd,
        );
        absurd.registerTask({ name: 'analyse' }, async (params: { question: string }) => {
          const result = await analyst.generate({ prompt: params.question });
          // The first attempt fails after every model and tool call is checkpointed; the retry replays them all.
          if (getCurrentTask()?.attempt === 1) throw new Error('first attempt fails after the agent ran');
          return { report: result.text };
        });
        ({ taskID } = await absurd.spawn('analyse', { question: 'Compare Q1 and Q2.' }, { maxAttempts: 2, retryStrategy: { kind: 'none' } }));
        const worker = await absurd.startWorker({ claimTimeout: 30, pollInterval: 0.05 });
        const snapshot = await absurd.awaitTaskResult(taskID, { timeout: 60 });
        await worker.close();
        assert.equal(snapshot.state, 'completed', JSON.stringify(snapshot));
      } finally {
        await absurd.close();
      }
    });

    after(async () => {
      await model?.close();
      await database?.close();
    });

    test('the agent ran each model call and tool once across both attempts', () => {
      assert.deepEqual(executions.sort(), ['getRevenue Q1', 'getRevenue Q2', 'recordNote']);
      assert.equal(model.completedRequests().length, 3);
    });

    test('runs lists the task with its attempts, model calls and tokens', async () => {
      const table = await run(['runs', '--db', database.url]);
      expectExit(table, 0, 'runs');
      assert.match(table.stdout, new RegExp(`${taskID}\\s+reports\\s+analyse\\s+completed\\s+2\\s+3\\s+3\\s`));
      const json = await run(['runs', '--db', database.url, '--json', '--queue', 'reports', '--state', 'completed']);
      expectExit(json, 0, 'runs --json');
      const [task, ...others] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
      assert.equal(others.length, 0);
      assert.equal(task?.taskID, taskID);
      assert.equal(task?.attempts, 2);
      assert.equal(task?.modelCalls, 3);
      assert.equal(task?.toolCalls, 3);
      const expectedInput = model.completedRequests().reduce((total, request) => total + (request.reply?.usage.inputTokens ?? 0), 0);
      assert.equal(task?.inputTokens, expectedInput);
      const none = await run(['runs', '--db', database.url, '--state', 'failed']);
      expectExit(none, 0, 'runs --state failed');
      assert.match(none.stdout, /No tasks in state failed/);
    });

    test('show prints the timeline with replays, tokens and both attempts', async () => {
      const result = await run(['show', taskID, '--db', database.url]);
      expectExit(result, 0, 'show');
      const output = result.stdout;
      assert.match(output, /state completed after 2 attempts/);
      assert.match(output, /#1\s+failed .*\n\s+failure: Error: first attempt fails after the agent ran/);
      assert.match(output, /#2\s+completed/);
      const modelLines = output.split('\n').filter((line) => /model call \d/.test(line));
      assert.equal(modelLines.length, 3);
      for (const line of modelLines) {
        assert.match(line, /^\s+attempt 1\s+model call \d\s+\S+\/gpt-test\s+(tool-calls|stop)\s+\d+ in \/ \d+ out tokens\s+\S+ m?s\s.*\[replayed on attempt 2\]$/);
      }
      assert.equal(output.split('\n').filter((line) => /tool (getRevenue|recordNote) \S+\s+ok/.test(line)).length, 3);
      assert.match(output, /Totals: 3 model calls \(3 replayed/);
    });

    test('show --json carries each checkpoint with the attempt that wrote it', async () => {
      const result = await run(['show', taskID, '--db', database.url, '--json']);
      expectExit(result, 0, 'show --json');
      const timeline = JSON.parse(result.stdout) as { runs: unknown[]; entries: Array<{ checkpoint: { type: string }; attempt: number; replayedOn: number[] }> };
      assert.equal(timeline.runs.length, 2);
      assert.equal(timeline.entries.length, 6);
      for (const entry of timeline.entries) assert.deepEqual([entry.attempt, entry.replayedOn], [1, [2]]);
    });

    test('an unknown --queue exits 1 and lists the queues there are', async () => {
      const result = await run(['runs', '--db', database.url, '--queue', 'nope']);
      expectExit(result, 1, 'runs --queue nope');
      assert.match(result.stderr, /There is no queue "nope" in this database\. Its queues: reports\./);
    });

    test('show lists a tool call that waited for approval, with its decision', async () => {
      const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: 'reports' });
      let approvalTaskID: string;
      try {
        const careful = new AbsurdAgent(
          {
            id: 'careful',
            model: createOpenAI({ baseURL: model.baseURL, apiKey: 'test' })('gpt-test'),
            tools: {
              getRevenue: tool({ inputSchema: z.object({ quarter: z.string() }), execute: async ({ quarter }) => ({ quarter, revenue: 1 }) }),
              recordNote: tool({ inputSchema: z.object({ text: z.string() }), needsApproval: true, execute: async () => ({ saved: true }) }),
            },
          },
          absurd,
        );
        absurd.registerTask({ name: 'careful-analysis' }, async (params: { question: string }) => {
          const result = await careful.generate({ prompt: params.question });
          return { report: result.text };
        });
        ({ taskID: approvalTaskID } = await absurd.spawn('careful-analysis', { question: 'Q1?' }));
        const worker = await absurd.startWorker({ claimTimeout: 30, pollInterval: 0.05 });
        let [pending] = await absurd.listPendingApprovals({ taskID: approvalTaskID });
        for (let polls = 0; !pending && polls < 600; polls++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          [pending] = await absurd.listPendingApprovals({ taskID: approvalTaskID });
        }
        assert.ok(pending, 'the task never asked for approval');
        await absurd.approveToolCall({ taskID: approvalTaskID, toolCallId: pending.toolCallId, approved: false, reason: 'not today' });
        const snapshot = await absurd.awaitTaskResult(approvalTaskID, { timeout: 60 });
        await worker.close();
        assert.equal(snapshot.state, 'completed');
      } finally {
        await absurd.close();
      }
      const result = await run(['show', approvalTaskID, '--db', database.url]);
      expectExit(result, 0, 'show of a task with an approval');
      assert.match(result.stdout, /approval requested for (recordNote )?\S+/);
      assert.match(result.stdout, /decision recorded for (recordNote )?\S+: denied/);
      assert.match(result.stdout, /Approvals\n\s+recordNote \S+\s+denied at \S+ \S+: not today\s+input \{"text":/);
    });

    test('show of an unknown task exits 1 and points at runs', async () => {
      for (const id of ['00000000-0000-7000-8000-000000000000', 'not-a-task-id']) {
        const result = await run(['show', id, '--db', database.url]);
        expectExit(result, 1, `show ${id}`);
        assert.match(result.stderr, /No task .* in any queue\. List tasks with: node \S+main\.ts runs --db \S+/);
      }
    });
  });
});
