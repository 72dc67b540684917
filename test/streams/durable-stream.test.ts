import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { Absurd } from '../../src/client/absurd.ts';
import { appendStreamChunk } from '../../src/streams/append-stream-chunk.ts';
import { StreamWriter } from '../../src/streams/stream-writer.ts';
import { readStream } from '../../src/streams/read-stream.ts';
import type { Database } from '../../src/db/database.ts';
import { InvalidPayloadError } from '../../src/errors/invalid-payload-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const message: UIMessageChunk[] = [
  { type: 'start', messageId: 'm1' },
  { type: 'start-step' },
  { type: 'text-start', id: 't1' },
  ...'Hello, durable world'.split(' ').map((word, i): UIMessageChunk => ({ type: 'text-delta', id: 't1', delta: (i ? ' ' : '') + word })),
  { type: 'text-end', id: 't1' },
  { type: 'finish-step' },
  { type: 'finish' },
];

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<T>) out.push(chunk);
  return out;
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function lastMessage(stream: ReadableStream<UIMessageChunk>): Promise<UIMessage | undefined> {
  let last: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream })) last = m;
  return last;
}

describe('durable UI message streams', () => {
  let database: TestDatabase;
  let absurd: Absurd;
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  before(async () => {
    database = await createTestDatabase();
    absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName() });
    absurd.registerTask({ name: 'talk' }, async (params: { gate?: boolean; fail?: boolean }, ctx) => {
      for (const chunk of message.slice(0, 4)) await appendStreamChunk(chunk);
      if (params.gate) await gate;
      await ctx.step('rest', async () => {
        for (const chunk of message.slice(4)) await appendStreamChunk(chunk);
      });
      if (params.fail) throw new Error('model exploded');
      return 'ok';
    });
    await absurd.createQueue();
  });
  after(async () => {
    await absurd.close();
    await database.close();
  });

  test('a completed task replays into exactly the final assistant message', async () => {
    const { taskID } = await absurd.spawn('talk', {});
    await absurd.workBatch();
    const chunks = await collect(absurd.readStream(taskID));
    assert.deepEqual(chunks, message);
    const assembled = await lastMessage(absurd.readStream(taskID));
    assert.equal(assembled?.id, 'm1');
    assert.equal(assembled?.role, 'assistant');
    const text = assembled?.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text);
    assert.deepEqual(text, ['Hello, durable world']);
  });

  test('startIndex: positive, out of range and negative (moved back to the start of the step)', async () => {
    const { taskID } = await absurd.spawn('talk', {});
    await absurd.workBatch();
    assert.deepEqual(await collect(absurd.readStream(taskID, { startIndex: 3 })), message.slice(3));
    assert.deepEqual(await collect(absurd.readStream(taskID, { startIndex: 1000 })), []);
    // Two from the end falls inside the step opened at index 1.
    assert.deepEqual(await collect(absurd.readStream(taskID, { startIndex: -2 })), message.slice(1));
    assert.deepEqual(await collect(absurd.readStream(taskID, { startIndex: -1 })), message.slice(-1));
    assert.deepEqual(await collect(absurd.readStream(taskID, { startIndex: -1000 })), message);
  });

  test('a live reader receives chunks as they are written and closes when the task ends', async () => {
    gate = new Promise<void>((resolve) => (release = resolve));
    const { taskID } = await absurd.spawn('talk', { gate: true });
    const worker = await absurd.startWorker({ pollInterval: 0.05 });
    try {
      const received: UIMessageChunk[] = [];
      const reader = (async () => {
        for await (const chunk of absurd.readStream(taskID, { pollIntervalMs: 20_000 }) as unknown as AsyncIterable<UIMessageChunk>) {
          received.push(chunk);
          if (received.length === 4) release();
        }
      })();
      await reader;
      assert.deepEqual(received, message);
    } finally {
      await worker.close();
    }
  });

  test('live readers of one task in one process share their reads, each with chunks of its own', async () => {
    gate = new Promise<void>((resolve) => (release = resolve));
    const { taskID } = await absurd.spawn('talk', { gate: true });
    // A database of its own, counting the reads of stream chunks (readers wake through its own notifications).
    let chunkReads = 0;
    const counted: Database = {
      ...absurd.database,
      query: (text: string, params?: unknown[]) => {
        if (text.includes('s.chunk_index >= $3')) chunkReads += 1;
        return absurd.database.query(text, params);
      },
    } as Database;
    const readers = 20;
    const reading = Array.from({ length: readers }, () => collect(readStream(counted, absurd.queue, taskID, { pollIntervalMs: 20_000 })));
    const worker = await absurd.startWorker({ pollInterval: 0.05 });
    try {
      await until(() => chunkReads > 0);
      release();
      const received = await Promise.all(reading);
      for (const chunks of received) assert.deepEqual(chunks, message);
      assert.notEqual(received[0]![0], received[1]![0], 'two readers were handed the same chunk object');
      // Unshared, every reader reads at least twice (its chunks, then the end): 2 × readers reads or more.
      assert.ok(chunkReads < readers * 2, `${chunkReads} reads of stream chunks for ${readers} readers`);
    } finally {
      await worker.close();
    }
  });

  test('a failed task ends its stream with an error chunk carrying the reason', async () => {
    const { taskID } = await absurd.spawn('talk', { fail: true }, { maxAttempts: 1 });
    await absurd.workBatch();
    const chunks = await collect(absurd.readStream(taskID));
    assert.deepEqual(chunks.slice(0, -1), message);
    assert.equal(chunks.at(-1)?.type, 'error');
    assert.match((chunks.at(-1) as { errorText: string }).errorText, /model exploded/);
  });

  test('an unknown task id fails at once, naming the task', async () => {
    const unknown = '0190a0a0-0000-7000-8000-000000000000';
    await assert.rejects(collect(absurd.readStream(unknown)), (error: Error) => error.message.includes(unknown));
    await assert.rejects(absurd.streamResponse(unknown), (error: Error) => error.message.includes(unknown));
  });

  test('streamResponse carries the stream as server-sent events', async () => {
    const { taskID } = await absurd.spawn('talk', {});
    await absurd.workBatch();
    const response = await absurd.streamResponse(taskID);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const body = await response.text();
    assert.match(body, /data: \{"id":"t1","type":"text-delta","delta":"Hello,"\}/);
    assert.match(body, /data: \[DONE\]/);
  });

  test('the writer batches many chunks into few commits', async () => {
    const { taskID } = await absurd.spawn('talk', {});
    await absurd.workBatch();
    const before = (await collect(absurd.readStream(taskID))).length;
    const writer = new StreamWriter(absurd.database, absurd.queue, taskID);
    for (let i = 0; i < 200; i += 1) writer.write({ type: 'text-delta', id: 'x', delta: String(i) });
    writer.write({ type: 'finish' });
    await writer.flush();
    assert.ok(writer.commits <= 2, `${writer.commits} commits`);
    assert.equal((await collect(absurd.readStream(taskID))).length, before + 201);
  });

  test('bad chunks are refused with InvalidPayloadError and nothing is stored', async () => {
    const { taskID } = await absurd.spawn('talk', {});
    await absurd.workBatch();
    const writer = new StreamWriter(absurd.database, absurd.queue, taskID);
    assert.throws(() => writer.write({ type: 'text-delta', id: 'x', delta: 'a\u0000b' }), InvalidPayloadError);
    assert.throws(() => writer.write({ type: 'data-x', data: 1n } as never), InvalidPayloadError);
    assert.throws(() => writer.write({ type: 'text-delta', id: 'x', delta: 'x'.repeat(2 * 1024 * 1024) }), InvalidPayloadError);
    await writer.flush();
    assert.deepEqual(await collect(absurd.readStream(taskID)), message);
  });

  test('dropping the queue removes its chunks', async () => {
    const queue = uniqueQueueName();
    const other = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: queue });
    await other.createQueue();
    const { taskID } = await other.spawn('x', {}, { queue });
    const writer = new StreamWriter(other.database, queue, taskID);
    writer.write({ type: 'finish' });
    await writer.flush();
    await other.dropQueue(queue);
    const { rows } = await other.database.query('select count(*)::int as n from ai_sdk_absurd.stream_chunks where queue_name = $1', [queue]);
    assert.equal(rows[0].n, 0);
    await other.close();
  });
});

describe('AbsurdChatTransport', () => {
  test('reads the SSE response and resumes after the chunks it received', async () => {
    const { AbsurdChatTransport } = await import('../../src/chat/index.ts');
    const database = await createTestDatabase();
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName() });
    try {
      absurd.registerTask({ name: 'talk' }, async () => {
        for (const chunk of message) await appendStreamChunk(chunk);
      });
      await absurd.createQueue();
      const { taskID } = await absurd.spawn('talk', {});
      await absurd.workBatch();
      const requests: string[] = [];
      const signals: Array<AbortSignal | undefined> = [];
      const transport = new AbsurdChatTransport({
        api: '/api/chat',
        fetch: (async (url: string, init?: RequestInit) => {
          requests.push(url);
          signals.push(init?.signal ?? undefined);
          const startIndex = Number(new URL(url, 'http://x').searchParams.get('startIndex') ?? 0);
          // The first request stops after three chunks, as a dropped connection would.
          const response = await absurd.streamResponse(taskID, { startIndex });
          return startIndex === 0 ? new Response(cut(response.body!, 3), { headers: response.headers }) : response;
        }) as typeof fetch,
      });
      const first = await collect(await transport.sendMessages({ trigger: 'submit-message', chatId: 'c1', messageId: undefined, messages: [], abortSignal: undefined }));
      assert.deepEqual(first, message.slice(0, 3));
      const rest = await collect((await transport.reconnectToStream({ chatId: 'c1' }))!);
      assert.deepEqual(rest, message.slice(3));
      assert.deepEqual(requests, ['/api/chat', '/api/chat/c1/stream?startIndex=3']);
      // useChat's abort of a resume reaches the request.
      const abort = new AbortController();
      await transport.reconnectToStream({ chatId: 'c1', abortSignal: abort.signal });
      assert.equal(signals.at(-1), abort.signal);
    } finally {
      await absurd.close();
      await database.close();
    }
  });
});

/** The first `events` SSE events of a body, then its end. */
function cut(body: ReadableStream<Uint8Array>, events: number): ReadableStream<Uint8Array> {
  return body.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).pipeThrough(
    new TransformStream<string, string>({
      transform(text, controller) {
        for (const event of text.split(/(?<=\n\n)/)) {
          if (events-- > 0) controller.enqueue(event);
        }
      },
    }),
  ).pipeThrough(new TextEncoderStream());
}

describe('stream retention', () => {
  test('cleanup_tasks removes the chunks of the tasks it removes', async () => {
    const database = await createTestDatabase();
    const queue = uniqueQueueName();
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: queue });
    try {
      absurd.registerTask({ name: 'talk' }, async () => {
        for (const chunk of message) await appendStreamChunk(chunk);
      });
      await absurd.createQueue();
      const { taskID } = await absurd.spawn('talk', {});
      await absurd.workBatch();
      const count = async () =>
        (await absurd.database.query('select count(*)::int as n from ai_sdk_absurd.stream_chunks where task_id = $1', [taskID])).rows[0].n;
      assert.equal(await count(), message.length);
      await absurd.database.query("select set_config('absurd.fake_now', (now() + interval '2 days')::text, false)");
      const { rows } = await absurd.database.query('select absurd.cleanup_tasks($1, 60) as n', [queue]);
      assert.equal(rows[0].n, 1);
      assert.equal(await count(), 0);
    } finally {
      await absurd.close();
      await database.close();
    }
  });
});
