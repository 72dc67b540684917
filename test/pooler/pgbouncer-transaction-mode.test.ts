// Everything a deployment behind PgBouncer in transaction mode needs, against a real PgBouncer in front of the real
// Postgres server: migrations, agent tasks over @ai-sdk/openai on workers, spawns from another client, approvals,
// durable streams, wake-ups (polling with one log line, or LISTEN on a direct `listenDb`), and no session state
// left on the pooler's server connections. It always targets the Postgres server (TEST_DATABASE_URL, else
// 127.0.0.1:5432), in a database of its own, so the embedded and the Postgres passes of `npm test` never collide.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createOpenAI } from '@ai-sdk/openai';
import { tool, type UIMessageChunk } from 'ai';
import pg from 'pg';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { assertSchemaCurrent, migrate } from '../../src/schema/migrate.ts';
import { analystInstructions } from '../support/analyst-scenario.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../bench/peers/scratch-database.ts';
import { findPgBouncer, startPgBouncer, type PgBouncer } from './pgbouncer-server.ts';

const serverUrl = /^postgres(ql)?:\/\//.test(process.env.TEST_DATABASE_URL ?? '')
  ? process.env.TEST_DATABASE_URL!
  : 'postgres://postgres@127.0.0.1:5432/postgres';
const binary = findPgBouncer();
const skip =
  !binary && !process.env.CI
    ? 'pgbouncer is not installed (apt-get install pgbouncer); this suite runs whenever it is, and always under CI'
    : false;

const fallbackLine = /LISTEN\/NOTIFY does not reach this process .* transaction-mode pooler/;

describe('behind PgBouncer in transaction mode', { skip }, () => {
  let bouncer: PgBouncer;
  let model: OpenAICompatibleServer;
  let scratch: ScratchDatabase;
  let databaseName: string;
  let pooledUrl: string;
  let directUrl: string;
  const clients: Absurd[] = [];
  const warnings: string[] = [];
  const log = {
    log() {},
    info() {},
    warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
    error: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
  };

  before(async () => {
    if (!binary) throw new Error('CI is set but pgbouncer is not installed: .ci/run installs it with apt-get.');
    scratch = await createScratchDatabase(serverUrl, 'ai_sdk_absurd_pooler');
    databaseName = scratch.name;
    directUrl = scratch.url;
    bouncer = await startPgBouncer(binary, serverUrl);
    pooledUrl = bouncer.urlFor(databaseName);
    model = await startOpenAICompatibleServer();
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await model?.close();
    await bouncer?.stop();
    await scratch?.drop();
  });

  /** A client through the pooler whose analyst agent talks to the local OpenAI-compatible server. */
  function openClient(options: { listenDb?: string | false; approveNotes?: boolean } = {}) {
    const absurd = new Absurd({ db: pooledUrl, queueName: uniqueQueueName('pooled'), log, listenDb: options.listenDb });
    clients.push(absurd);
    const provider = createOpenAI({ baseURL: model.baseURL, apiKey: 'test-key' });
    const notes: string[] = [];
    const agent = new AbsurdAgent(
      {
        id: 'analyst',
        model: provider.chat('gpt-analyst'),
        instructions: analystInstructions,
        tools: {
          getRevenue: tool({
            description: 'Revenue of one quarter, in dollars.',
            inputSchema: z.object({ quarter: z.string() }),
            execute: async ({ quarter }) => ({ quarter, revenue: Number(quarter.slice(1)) * 1000 }),
          }),
          recordNote: tool({
            description: 'Saves a note for the finance team.',
            inputSchema: z.object({ text: z.string() }),
            needsApproval: Boolean(options.approveNotes),
            execute: async ({ text }) => {
              notes.push(text);
              return { saved: true };
            },
          }),
        },
      },
      absurd,
    );
    absurd.registerTask({ name: 'analyse' }, async (params: { prompt: string }) => ({ text: (await agent.generate(params)).text }));
    absurd.registerTask({ name: 'analyse-streamed' }, async (params: { prompt: string }) => {
      const result = await agent.stream(params);
      return { text: await result.text };
    });
    return { absurd, notes };
  }

  test('migrations apply through the pooler, concurrently and again', async () => {
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: pooledUrl, max: 2 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool)));
      // The advisory transaction lock lets one apply everything; the other finds nothing left to do.
      const applied = results.map((result) => result.applied.length).sort((a, b) => a - b);
      assert.equal(applied[0], 0);
      assert.ok(applied[1]! > 0);
      assert.deepEqual((await migrate(pools[0]!)).applied, []);
      await assertSchemaCurrent(pools[1]!);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    const direct = new pg.Client({ connectionString: directUrl });
    await direct.connect();
    try {
      await assertSchemaCurrent(direct);
    } finally {
      await direct.end();
    }
  });

  test('workers complete agent tasks spawned by another client; wake-ups fall back to polling with one log line', async () => {
    const worker = openClient();
    await worker.absurd.createQueue();
    const spawner = new Absurd({ db: pooledUrl, queueName: worker.absurd.queue, log });
    clients.push(spawner);
    const running = await worker.absurd.startWorker({ concurrency: 4, pollInterval: 0.05 });
    const spawned = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => spawner.spawn('analyse', { prompt: `Compare Q${(n % 4) + 1} and Q${((n + 1) % 4) + 1}` }, { queue: spawner.queue })),
    );
    const results = await Promise.all(spawned.map(({ taskID }) => spawner.awaitTaskResult(taskID, { timeout: 120 })));
    await running.close();
    for (const result of results) {
      assert.equal(result.state, 'completed');
      assert.match(resultText(result), /^Report for Q\d, Q\d\. Revenue: .* Note recorded\.$/);
    }
    assert.equal(worker.notes.length, 8);
    assert.equal(warnings.filter((line) => fallbackLine.test(line)).length, 1, warnings.join('\n'));
  });

  test('approvals suspend the task, and the decision resumes it', async () => {
    const { absurd, notes } = openClient({ approveNotes: true });
    await absurd.createQueue();
    const running = await absurd.startWorker({ pollInterval: 0.05 });
    try {
      const { taskID } = await absurd.spawn('analyse', { prompt: 'Compare Q1 and Q2' });
      // The request is recorded just before the run suspends: wait for both.
      let pending = await absurd.listPendingApprovals({ taskID });
      for (let attempt = 0; attempt < 1200; attempt++) {
        if (pending.length > 0 && (await absurd.fetchTaskResult(taskID))?.state === 'sleeping') break;
        await delay(50);
        pending = await absurd.listPendingApprovals({ taskID });
      }
      assert.equal(pending[0]?.toolName, 'recordNote');
      assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'sleeping');
      assert.deepEqual(notes, []);
      await absurd.approveToolCall({ taskID, toolCallId: pending[0]!.toolCallId, approved: true });
      const done = await absurd.awaitTaskResult(taskID, { timeout: 120 });
      assert.equal(done.state, 'completed');
      assert.deepEqual(notes, ['Revenue for Q1, Q2: {"quarter":"Q1","revenue":1000}; {"quarter":"Q2","revenue":2000}']);
    } finally {
      await running.close();
    }
  });

  test('a live reader sees the durable stream as it is written, and a late reader gets the same chunks', async () => {
    const { absurd } = openClient();
    await absurd.createQueue();
    const { taskID } = await absurd.spawn('analyse-streamed', { prompt: 'Compare Q3 and Q4' });
    const live = collect(absurd.readStream(taskID, { pollIntervalMs: 50 }));
    const running = await absurd.startWorker({ pollInterval: 0.05 });
    try {
      const done = await absurd.awaitTaskResult(taskID, { timeout: 120 });
      assert.equal(done.state, 'completed');
      const liveChunks = await live;
      const text = liveChunks.flatMap((chunk) => (chunk.type === 'text-delta' ? [chunk.delta] : [])).join('');
      assert.equal(text, resultText(done));
      assert.equal(liveChunks[0]?.type, 'start');
      assert.equal(liveChunks.at(-1)?.type, 'finish');
      assert.deepEqual(await collect(absurd.readStream(taskID)), liveChunks);
    } finally {
      await running.close();
    }
  });

  test('with listenDb naming a direct connection, a NOTIFY wakes an idle worker and nothing is logged', async () => {
    const before = warnings.length;
    const { absurd } = openClient({ listenDb: directUrl });
    await absurd.createQueue();
    // An hour between polls: only a notification can start this task within the wait below.
    const running = await absurd.startWorker({ pollInterval: 3600 });
    try {
      await delay(100);
      const { taskID } = await absurd.spawn('analyse', { prompt: 'Compare Q1 and Q4' });
      assert.equal((await absurd.awaitTaskResult(taskID, { timeout: 60 })).state, 'completed');
    } finally {
      await running.close();
    }
    assert.deepEqual(warnings.slice(before), []);
  });

  test('listenDb: false polls without LISTEN and without the check; other values are refused', async () => {
    const before = warnings.length;
    const { absurd } = openClient({ listenDb: false });
    await absurd.createQueue();
    const running = await absurd.startWorker({ pollInterval: 0.05 });
    try {
      const { taskID } = await absurd.spawn('analyse', { prompt: 'Compare Q2 and Q3' });
      assert.equal((await absurd.awaitTaskResult(taskID, { timeout: 120 })).state, 'completed');
    } finally {
      await running.close();
    }
    assert.deepEqual(warnings.slice(before), []);
    assert.throws(() => new Absurd({ db: pooledUrl, listenDb: 'pglite:memory' }), ConfigurationError);
  });

  test('no session state is left on any of the server connections the pooler shares', async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    const clean = await sweepServerConnections(bouncer);
    assert.equal(new Set(clean.map((connection) => connection.pid)).size, bouncer.poolSize);
    for (const connection of clean) {
      assert.deepEqual(
        { prepared: connection.prepared, channels: connection.channels, settings: connection.settings, advisory: connection.advisory, temporary: connection.temporary },
        { prepared: 0, channels: [], settings: [], advisory: 0, temporary: false },
        `server connection ${connection.pid}`,
      );
    }
    // The sweep reaches every server connection: a session setting left by one client shows up on exactly one.
    const leaking = new pg.Client({ connectionString: pooledUrl });
    await leaking.connect();
    await leaking.query('set search_path = left_behind, absurd');
    await leaking.end();
    const dirty = await sweepServerConnections(bouncer);
    assert.deepEqual(dirty.flatMap((connection) => connection.settings), ['search_path=left_behind, absurd']);
  });

  test('a pooler that rotates its server connections is found out by a test notification, whose LISTEN is undone', async () => {
    const rotating = await startPgBouncer(binary!, serverUrl, { serverRoundRobin: true });
    const lines: string[] = [];
    const absurd = new Absurd({
      db: rotating.urlFor(databaseName),
      queueName: uniqueQueueName('rotating'),
      log: { ...log, warn: (...args: unknown[]) => lines.push(args.map(String).join(' ')) },
    });
    try {
      // Every server connection open and idle, so the next transaction never gets the one used last.
      await sweepServerConnections(rotating);
      absurd.registerTask({ name: 'echo' }, async (params: { word: string }) => ({ text: params.word }));
      await absurd.createQueue();
      const running = await absurd.startWorker({ pollInterval: 0.05 });
      const { taskID } = await absurd.spawn('echo', { word: 'rotated' });
      assert.equal(resultText(await absurd.awaitTaskResult(taskID, { timeout: 120 })), 'rotated');
      await running.close();
    } finally {
      await absurd.close();
    }
    try {
      assert.equal(lines.filter((line) => fallbackLine.test(line)).length, 1, lines.join('\n'));
      const sessions = await sweepServerConnections(rotating);
      assert.equal(new Set(sessions.map((connection) => connection.pid)).size, rotating.poolSize);
      assert.deepEqual(sessions.flatMap((connection) => connection.channels), []);
    } finally {
      await rotating.stop();
    }
  });

  /** Holds one transaction on each of the pooler's server connections at once and reads its session state. */
  async function sweepServerConnections(target: PgBouncer) {
    const sessions = await Promise.all(
      Array.from({ length: target.poolSize }, async () => {
        const client = new pg.Client({ connectionString: target.urlFor(databaseName) });
        await client.connect();
        await client.query('begin');
        return client;
      }),
    );
    try {
      return await Promise.all(
        sessions.map(async (client) => {
          const { rows } = await client.query<{ pid: number; prepared: number; channels: string[]; settings: string[]; advisory: number; temporary: boolean }>(
            `select pg_backend_pid() as pid,
                    (select count(*)::int from pg_prepared_statements) as prepared,
                    array(select pg_listening_channels()) as channels,
                    array(select name || '=' || setting from pg_settings
                          where source = 'session'
                            and lower(name) not in ('application_name', 'client_encoding', 'datestyle', 'timezone',
                                                    'standard_conforming_strings', 'intervalstyle')) as settings,
                    (select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()) as advisory,
                    pg_my_temp_schema() <> 0 as temporary`,
          );
          return rows[0]!;
        }),
      );
    } finally {
      await Promise.all(sessions.map(async (client) => (await client.query('rollback'), await client.end())));
    }
  }
});

function resultText(snapshot: { state: string; result?: unknown }): string {
  assert.equal(snapshot.state, 'completed');
  return (snapshot.result as { text: string }).text;
}

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<T>) chunks.push(chunk);
  return chunks;
}
