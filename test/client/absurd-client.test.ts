import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TaskContext } from 'absurd-sdk';
import { Absurd } from '../../src/client/absurd.ts';
import { getCurrentTask, type CurrentTask } from '../../src/client/current-task.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { InvalidPayloadError } from '../../src/errors/invalid-payload-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

describe('Absurd client', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  test('runs the tutorial shape end to end', async () => {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName() });
    try {
      absurd.registerTask({ name: 'double' }, async (params: { value: number }, ctx) => {
        const doubled = await ctx.step('double', async () => params.value * 2);
        return { doubled };
      });
      await absurd.createQueue();
      const { taskID } = await absurd.spawn('double', { value: 21 });
      await absurd.workBatch();
      assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: { doubled: 42 } });
    } finally {
      await absurd.close();
    }
  });

  test('exposes the current task to code inside the handler and composes with user hooks', async () => {
    const seen: CurrentTask[] = [];
    const hookCalls: string[] = [];
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' },
      db: database.db,
      queueName: uniqueQueueName(),
      hooks: {
        wrapTaskExecution: async <T>(ctx: TaskContext, execute: () => Promise<T>) => {
          hookCalls.push(`before:${ctx.taskID}`);
          // The library's context is already visible inside the user's own hook.
          assert.equal(getCurrentTask()?.taskID, ctx.taskID);
          const result = await execute();
          hookCalls.push(`after:${ctx.taskID}`);
          return result;
        },
      },
    });
    try {
      absurd.registerTask({ name: 'inspect' }, async () => {
        await Promise.resolve();
        const current = getCurrentTask();
        assert.ok(current);
        seen.push(current);
        return null;
      });
      await absurd.createQueue();
      assert.equal(getCurrentTask(), undefined);
      const { taskID, runID } = await absurd.spawn('inspect', {});
      await absurd.workBatch('worker-a', 30);
      assert.equal(seen.length, 1);
      const current = seen[0]!;
      assert.equal(current.taskID, taskID);
      assert.equal(current.runID, runID);
      assert.equal(current.attempt, 1);
      assert.equal(current.taskName, 'inspect');
      assert.equal(current.queueName, absurd.queue);
      assert.equal(current.claimTimeout, 30);
      assert.equal(current.absurd, absurd);
      assert.deepEqual(hookCalls, [`before:${taskID}`, `after:${taskID}`]);
      assert.equal(getCurrentTask(), undefined);
    } finally {
      await absurd.close();
    }
  });

  test('an idle worker starts new work on a notification, without waiting for its poll interval', async () => {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName() });
    const started = Promise.withResolvers<string>();
    try {
      absurd.registerTask({ name: 'ping' }, async (_params, ctx) => {
        started.resolve(ctx.taskID);
        return 'pong';
      });
      await absurd.createQueue();
      // A poll interval far longer than the test timeout: only a notification can wake this worker.
      const worker = await absurd.startWorker({ pollInterval: 3600, concurrency: 2 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const { taskID } = await absurd.spawn('ping', {});
      assert.equal(await started.promise, taskID);
      await worker.close();
      assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: 'pong' });
    } finally {
      await absurd.close();
    }
  });

  test('rejects invalid queue names with a clear error before any SQL is sent', async () => {
    assert.throws(() => new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: '' }), ConfigurationError);
    assert.throws(
      () => new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: 'q'.repeat(58) }),
      (error: unknown) => error instanceof ConfigurationError && /58 bytes in UTF-8, over the limit of 57/.test(error.message),
    );
    assert.throws(() => new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: 'bad\u0000name' }), /contains a NUL character/);
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName() });
    try {
      await assert.rejects(absurd.createQueue('é'.repeat(29)), /over the limit of 57/);
      // 57 bytes of multi-byte characters is fine, and hostile names are quoted, never executed.
      const hostile = `x"; drop table absurd.queues; --`;
      await absurd.createQueue(hostile);
      assert.ok((await absurd.listQueues()).includes(hostile));
      await absurd.dropQueue(hostile);
    } finally {
      await absurd.close();
    }
  });

  test('refuses task params and event payloads Postgres could not store, and stores nothing', async () => {
    const queueName = uniqueQueueName();
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName, maxPayloadBytes: 1024 * 1024 });
    try {
      absurd.registerTask({ name: 'noop' }, async () => null);
      await absurd.createQueue();
      await assert.rejects(absurd.spawn('noop', { text: 'a\u0000b' }), (error: unknown) => {
        assert.ok(error instanceof InvalidPayloadError);
        assert.match(error.message, /NUL character/);
        return true;
      });
      await assert.rejects(absurd.spawn('noop', { big: 'x'.repeat(2 * 1024 * 1024) }), (error: unknown) => {
        assert.ok(error instanceof InvalidPayloadError);
        assert.equal(error.limit, 1024 * 1024);
        assert.match(error.message, /over the limit of 1048576 bytes/);
        return true;
      });
      await assert.rejects(absurd.spawn('noop', { count: 10n }), /not JSON-serializable/);
      await assert.rejects(absurd.emitEvent('e', { text: '\u0000' }), InvalidPayloadError);
      // A literal backslash followed by "u0000" is ordinary text, not a NUL.
      await absurd.spawn('noop', { text: '\\u0000' });
      const { rows } = await database.query(`select count(*)::int as count from absurd."t_${queueName}"`);
      assert.equal(rows[0].count, 1);
    } finally {
      await absurd.close();
    }
  });

  test("the worker's default error handler reports through the client's log option, not the console", async () => {
    const logged: unknown[][] = [];
    const log = { ...console, log() {}, info() {}, warn() {}, debug() {}, error: (...args: unknown[]) => logged.push(args) } as Console;
    const printed: unknown[][] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => printed.push(args);
    // A queue that does not exist makes every poll fail, which the worker loop reports to onError.
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('missing'), log });
    try {
      const worker = await absurd.startWorker({ pollInterval: 0.01 });
      const deadline = Date.now() + 20_000;
      while (logged.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await worker.close();
    } finally {
      console.error = consoleError;
      await absurd.close();
    }
    assert.ok(logged.length > 0, 'the error reached the given log');
    assert.equal(logged[0]![0], '[ai-sdk-absurd] worker error:');
    assert.ok(logged[0]![1] instanceof ConfigurationError);
    assert.deepEqual(printed, [], 'nothing went to console.error');
  });

  test('names a missing queue and how to create it', async () => {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('missing') });
    try {
      absurd.registerTask({ name: 'noop' }, async () => null);
      await assert.rejects(absurd.spawn('noop', {}), (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.match(error.message, /Queue "missing_[0-9a-f]+" does not exist\. Create it first with absurd\.createQueue/);
        return true;
      });
    } finally {
      await absurd.close();
    }
  });
});

describe('pglite: URLs', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-url-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test('pglite:memory gives a migrated embedded database', async () => {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: 'pglite:memory', queueName: 'agents' });
    try {
      await absurd.createQueue();
      assert.deepEqual(await absurd.listQueues(), ['agents']);
    } finally {
      await absurd.close();
    }
  });

  test('clients in one process share a directory, and its data survives reopening', async () => {
    const url = `pglite:${join(directory, 'shared')}`;
    const producer = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: url, queueName: 'agents' });
    const consumer = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: url, queueName: 'agents' });
    let taskID: string;
    try {
      consumer.registerTask({ name: 'greet' }, async (params: { name: string }) => `hello ${params.name}`);
      await producer.createQueue();
      ({ taskID } = await producer.spawn('greet', { name: 'Ada' }, { queue: 'agents' }));
      await consumer.workBatch();
    } finally {
      await producer.close();
      await consumer.close();
    }
    const reopened = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: url, queueName: 'agents' });
    try {
      assert.deepEqual(await reopened.fetchTaskResult(taskID), { state: 'completed', result: 'hello Ada' });
    } finally {
      await reopened.close();
    }
  });

  test('rejects URLs it does not understand with the accepted forms', () => {
    assert.throws(() => new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: 'mysql://localhost/db' }), (error: unknown) => {
      assert.ok(error instanceof ConfigurationError);
      assert.match(error.message, /pglite:\.\/path\/to\/dir/);
      return true;
    });
    assert.throws(() => new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: 'pglite:' }), /names no location/);
  });
});
