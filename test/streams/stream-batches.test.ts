// Stream chunks stored a batch to a row: one append is one row whatever its size, readers see one chunk per
// index as before, voiding a superseded range rewrites chunks inside a batch in place, and a database that
// stored a chunk per row keeps every chunk across the upgrade.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { UIMessageChunk } from 'ai';
import { Absurd } from '../../src/client/absurd.ts';
import { migrate } from '../../src/schema/migrate.ts';
import { StreamWriter } from '../../src/streams/stream-writer.ts';
import { execScript, installThrough } from '../schema/install-through.ts';
import { createTestDatabase, uniqueQueueName } from '../support/test-database.ts';

const deltas = (count: number, from = 0): UIMessageChunk[] =>
  Array.from({ length: count }, (_, index) => ({ type: 'text-delta', id: 'text-1', delta: `w${from + index} ` }));

async function collect(stream: ReadableStream<UIMessageChunk>): Promise<UIMessageChunk[]> {
  const chunks: UIMessageChunk[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<UIMessageChunk>) chunks.push(chunk);
  return chunks;
}

describe('stream batches', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('one append is one row; readers see every chunk by index, from any start, across batches', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.close());
    const absurd = new Absurd({ db: database.db, queueName: uniqueQueueName('batches') });
    cleanups.push(() => absurd.close());
    await absurd.createQueue();
    const { taskID } = await absurd.spawn('nothing', {}, { queue: absurd.queue });
    const writer = new StreamWriter(absurd.database, absurd.queue, taskID);
    const written = [{ type: 'start' } as UIMessageChunk, { type: 'text-start', id: 'text-1' } as UIMessageChunk, ...deltas(1_200)];
    for (const chunk of written.slice(0, 700)) writer.write(chunk);
    await writer.flush();
    for (const chunk of written.slice(700)) writer.write(chunk);
    await writer.flush();

    const { rows: batches } = await database.query(
      `select first_index, last_index, jsonb_array_length(chunks) as length from ai_sdk_absurd.stream_batches
       where task_id = $1 order by first_index`,
      [taskID],
    );
    assert.ok(batches.length <= 4, `${batches.length} rows for ${written.length} chunks`);
    let next = 0;
    for (const batch of batches) {
      assert.equal(batch.first_index, next, 'batches follow each other without a gap');
      assert.equal(batch.last_index, batch.first_index + batch.length - 1);
      next = batch.last_index + 1;
    }
    assert.equal(next, written.length);
    const { rows: view } = await database.query(
      'select count(*)::int as rows, min(chunk_index) as first, max(chunk_index) as last from ai_sdk_absurd.stream_chunks where task_id = $1',
      [taskID],
    );
    assert.deepEqual(view[0], { rows: written.length, first: 0, last: written.length - 1 });

    await absurd.cancelTask(taskID);
    assert.deepEqual(await collect(absurd.readStream(taskID, { startIndex: 0 })).then((chunks) => chunks.slice(0, -1)), written);
    // A start inside the second batch, and one in the first that the second batch follows.
    const fromMiddle = await collect(absurd.readStream(taskID, { startIndex: 1_000 }));
    assert.deepEqual(fromMiddle.slice(0, -1), written.slice(1_000));
    const acrossBatches = await collect(absurd.readStream(taskID, { startIndex: 650 }));
    assert.deepEqual(acrossBatches.slice(0, -1), written.slice(650));
  });

  test('voiding a range rewrites the chunks inside their batches in place and leaves data parts and indexes', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.close());
    const absurd = new Absurd({ db: database.db, queueName: uniqueQueueName('voiding') });
    cleanups.push(() => absurd.close());
    await absurd.createQueue();
    const { taskID } = await absurd.spawn('nothing', {}, { queue: absurd.queue });
    const writer = new StreamWriter(absurd.database, absurd.queue, taskID);
    const progress = { type: 'data-progress', data: { done: 1 } } as UIMessageChunk;
    const written = [...deltas(5), progress, ...deltas(5, 5)];
    for (const chunk of written) writer.write(chunk);
    await writer.flush();
    writer.supersede({ fromIndex: 3, toIndex: 9 });
    await writer.flush();

    const { rows } = await database.query(
      'select chunk_index, chunk from ai_sdk_absurd.stream_chunks where task_id = $1 order by chunk_index',
      [taskID],
    );
    const types = rows.map((row) => (row.chunk as UIMessageChunk).type);
    assert.equal(rows.length, written.length + 1, 'the marker is appended; voided chunks keep their places');
    assert.deepEqual(types.slice(0, 3), ['text-delta', 'text-delta', 'text-delta']);
    assert.equal(types[5], 'data-progress', 'a data part in the range is kept');
    for (const index of [3, 4, 6, 7, 8]) assert.equal(types[index], 'data-absurd-superseded');
    assert.deepEqual(types.slice(9, 11), ['text-delta', 'text-delta']);
    assert.equal(types[11], 'data-absurd-superseded');
  });

  test('an upgrade keeps every chunk stored a row each, in order, and appends continue after them', async () => {
    const database = await createTestDatabase({ migrated: false });
    cleanups.push(() => database.close());
    await installThrough(database, 18);
    const queue = uniqueQueueName('upgrade');
    await execScript(
      database,
      `select absurd.create_queue('${queue}');
       select ai_sdk_absurd.append_stream_chunks('${queue}', '00000000-0000-7000-8000-000000000001', null,
         '[{"type":"start"},{"type":"text-start","id":"t"},{"type":"text-delta","id":"t","delta":"old "}]'::jsonb);`,
    );
    const target = database.kind === 'pglite' ? (database.db as PGlite) : new pg.Pool({ connectionString: database.url, max: 2 });
    try {
      assert.ok((await migrate(target)).applied.includes(19));
    } finally {
      if (target instanceof pg.Pool) await target.end();
    }
    const { rows: batches } = await database.query('select count(*)::int as rows from ai_sdk_absurd.stream_batches');
    assert.equal(batches[0].rows, 3, 'each stored chunk became a batch of its own');
    await execScript(
      database,
      `select ai_sdk_absurd.append_stream_chunks('${queue}', '00000000-0000-7000-8000-000000000001', null,
         '[{"type":"text-delta","id":"t","delta":"new"},{"type":"text-end","id":"t"}]'::jsonb);`,
    );
    const { rows } = await database.query(
      `select chunk_index, chunk->>'type' as type, chunk->>'delta' as delta from ai_sdk_absurd.stream_chunks
       where task_id = '00000000-0000-7000-8000-000000000001' order by chunk_index`,
    );
    assert.deepEqual(
      rows.map((row) => [row.chunk_index, row.type, row.delta]),
      [
        [0, 'start', null],
        [1, 'text-start', null],
        [2, 'text-delta', 'old '],
        [3, 'text-delta', 'new'],
        [4, 'text-end', null],
      ],
    );
  });
});
