// Partitioned queues: creation, catalog layout (parents, weekly and DEFAULT children, i_<queue>),
// provisioning with ensure_partitions, and the queue policy with its validation. Test names carry the
// numbers of the statements they check in the partitioned-storage specification.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { needsPostgres, rejectsWith, spawnTask, useProtocolDatabase } from '../support/protocol-helpers.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import {
  addDays,
  childrenOf,
  createPartitionedQueue,
  holdingChild,
  partitionBound,
  prefixes,
  relkind,
  scalar,
  weekTag,
} from './partition-helpers.ts';

const base = '2024-04-01T12:00:00.000Z';

describe('partitions: layout, provisioning and policy', () => {
  const db = useProtocolDatabase({ fakeNow: null });
  const policy = async (queue: string) => (await db.query(
    `select storage_mode, default_partition, partition_lookahead::text, partition_lookback::text, cleanup_ttl::text,
            cleanup_limit, detach_mode, detach_min_age::text from absurd.get_queue_policy($1)`, [queue])).rows[0];
  const setPolicy = (queue: string, value: unknown) => db.query('select absurd.set_queue_policy($1, $2)', [queue, JSON.stringify(value)]);
  const userTables = async (queue: string) => (await db.query(
    `select tablename::text from pg_tables where schemaname = 'absurd' and tablename like '%\\_' || $1 order by 1`, [queue])).rows
    .map((row) => row.tablename).filter((name: string) => name.slice(2) === queue);

  test('P1, P18: an unpartitioned queue keeps the defaults and has no i_ table; a partitioned one has i_', async () => {
    const plain = await db.createQueue('mode_default');
    assert.deepEqual(await policy(plain), {
      storage_mode: 'unpartitioned', default_partition: 'enabled', partition_lookahead: '28 days', partition_lookback: '1 day',
      cleanup_ttl: '30 days', cleanup_limit: 1000, detach_mode: 'none', detach_min_age: '30 days',
    });
    assert.equal(await relkind(db, `i_${plain}`), undefined);
    const partitioned = await createPartitionedQueue(db);
    assert.equal((await policy(partitioned)).storage_mode, 'partitioned');
    assert.equal(await scalar(db, `select count(*)::int from pg_tables where schemaname = 'absurd' and tablename = $1`, [`i_${partitioned}`]), 1);
  });

  test('P11, P12, P13, P14, P15: create_queue modes: idempotent, mismatches and unknown modes refused, mode trimmed', async () => {
    const queue = await createPartitionedQueue(db);
    await db.query(`select absurd.create_queue($1, 'partitioned')`, [queue]);
    assert.equal((await policy(queue)).storage_mode, 'partitioned');
    await rejectsWith(db.query('select absurd.create_queue($1)', [queue]), { message: /already exists with storage mode partitioned, not unpartitioned/ });
    const plain = await db.createQueue();
    await rejectsWith(db.query(`select absurd.create_queue($1, 'partitioned')`, [plain]), { message: /already exists with storage mode unpartitioned, not partitioned/ });
    await rejectsWith(db.query(`select absurd.create_queue($1, 'timescale')`, [uniqueQueueName()]), { message: /unknown storage mode 'timescale'/ });
    const padded = uniqueQueueName('padded');
    await db.query(`select absurd.create_queue($1, ' Partitioned ')`, [padded]);
    assert.equal((await policy(padded)).storage_mode, 'partitioned');
  });

  test('P16, P17, P21: parents are partitioned, e_ and i_ ordinary, the current week and DEFAULT children exist', async () => {
    const queue = await createPartitionedQueue(db);
    for (const prefix of prefixes) assert.equal(await relkind(db, `${prefix}_${queue}`), 'p', prefix);
    assert.equal(await relkind(db, `e_${queue}`), 'r');
    assert.equal(await relkind(db, `i_${queue}`), 'r');
    const now = await scalar(db, 'select absurd.current_time()');
    const tag = await weekTag(db, now);
    const lo: string = await scalar(db, 'select absurd.uuidv7_floor(absurd.week_bucket_utc(absurd.current_time()))::text');
    const hi: string = await scalar(db, `select absurd.uuidv7_floor(absurd.week_bucket_utc(absurd.current_time()) + interval '7 days')::text`);
    for (const prefix of prefixes) {
      const bound = await partitionBound(db, `${prefix}_${queue}_${tag}`);
      assert.ok(bound?.includes(lo) && bound.includes(hi), `${prefix}: ${bound}`);
      assert.equal(await partitionBound(db, `${prefix}_${queue}_d`), 'DEFAULT');
    }
    assert.deepEqual(await userTables(queue), ['c', 'e', 'i', 'r', 't', 'w'].map((prefix) => `${prefix}_${queue}`));
  });

  test('§3.4: at 2024-04-01 12:00 the window is weeks 413 to 418 with the documented bounds; constraints are named', async () => {
    await db.setFakeNow(base);
    const queue = await createPartitionedQueue(db);
    for (const prefix of prefixes) {
      assert.deepEqual(await childrenOf(db, `${prefix}_${queue}`), ['413', '414', '415', '416', '417', '418', 'd'].map((tag) => `${prefix}_${queue}_${tag}`));
    }
    assert.equal(await partitionBound(db, `t_${queue}_414`),
      "FOR VALUES FROM ('018e96f4-a800-7000-8000-000000000000') TO ('018ebb01-2c00-7000-8000-000000000000')");
    const constraints = (await db.query(
      `select conname::text from pg_constraint where conrelid = any(array[$1, $2, $3, $4, $5, $6]::regclass[]) and contype = 'p' order by 1`,
      ['t', 'r', 'c', 'w', 'e', 'i'].map((prefix) => `absurd."${prefix}_${queue}"`))).rows.map((row) => row.conname);
    assert.deepEqual(constraints, ['c', 'e', 'i', 'r', 't', 'w'].map((prefix) => `${prefix}_${queue}_pkey`));
    const indexes = (await db.query(`select indexname::text from pg_indexes where schemaname = 'absurd' and tablename = any($1) order by 1`,
      [[`r_${queue}`, `w_${queue}`, `i_${queue}`, `e_${queue}`]])).rows.map((row) => row.indexname);
    for (const name of [`r_${queue}_sai`, `r_${queue}_ti`, `r_${queue}_cei`, `w_${queue}_eni`, `w_${queue}_ti`, `i_${queue}_ti`, `e_${queue}_eai`]) {
      assert.ok(indexes.includes(name), `${name} in ${indexes.join(', ')}`);
    }
    assert.equal(await scalar(db, `select count(*)::int from pg_indexes where schemaname = 'absurd' and tablename = $1 and indexdef ilike '%idempotency_key%'`, [`t_${queue}`]), 0,
      'the key is unique in i_, not on the partitioned task table');
  });

  test('large JSON columns of every child, present and future, use lz4 where the server has it', async () => {
    const queue = await createPartitionedQueue(db);
    await setPolicy(queue, { partition_lookahead: '70 days' });
    await db.query('select absurd.ensure_partitions($1)', [queue]);
    const lz4: boolean = await scalar(db, `select 'lz4' = any(enumvals) from pg_settings where name = 'default_toast_compression'`);
    const { rows } = await db.query(
      `select c.relname::text as table_name, a.attcompression::text as method from pg_attribute a join pg_class c on c.oid = a.attrelid
       where c.relnamespace = 'absurd'::regnamespace and a.attname = 'params' and (c.relname = $1 or c.relname like $1 || '\\_%')`,
      [`t_${queue}`]);
    assert.ok(rows.length >= 12, `${rows.length} task tables`);
    assert.deepEqual(rows.filter((row) => row.method !== (lz4 ? 'l' : '')), []);
  });

  test('P19: on a Monday at 00:30 the lookback day provisions the previous week too', async () => {
    await db.setFakeNow('2024-04-01T00:30:00Z');
    const queue = await createPartitionedQueue(db);
    for (const prefix of prefixes) {
      assert.equal(await relkind(db, `${prefix}_${queue}_414`), 'r');
      assert.equal(await relkind(db, `${prefix}_${queue}_413`), 'r');
    }
  });

  test('P32, P33: create_queue provisions only the window; a longer lookahead and ensure_partitions add weeks', async () => {
    await db.setFakeNow(base);
    const queue = await createPartitionedQueue(db);
    const far = await weekTag(db, addDays(base, 56));
    for (const prefix of prefixes) assert.equal(await relkind(db, `${prefix}_${queue}_${far}`), undefined);
    await setPolicy(queue, { partition_lookahead: '60 days' });
    await db.query('select absurd.ensure_partitions($1)', [queue]);
    for (const prefix of prefixes) assert.equal(await relkind(db, `${prefix}_${queue}_${far}`), 'r');
    await setPolicy(queue, { partition_lookahead: '70 days' });
    await db.query('select absurd.ensure_partitions()');
    const farther = await weekTag(db, addDays(base, 63));
    for (const prefix of prefixes) assert.equal(await relkind(db, `${prefix}_${queue}_${farther}`), 'r');
  });

  test('P34: ensure_partitions checks a given name and accepts unpartitioned queues and null', async () => {
    const plain = await db.createQueue();
    await db.query('select absurd.ensure_partitions($1)', [plain]);
    await db.query('select absurd.ensure_partitions()');
    await db.query('select absurd.ensure_partitions(null)');
    await rejectsWith(db.query(`select absurd.ensure_partitions($1)`, [uniqueQueueName('missing')]), { message: /does not exist/ });
    await rejectsWith(db.query(`select absurd.ensure_partitions('')`), { message: /must not be empty/ });
  });

  test('P35: a DEFAULT child holding rows of a week makes provisioning that week fail, and nothing is created', async () => {
    await db.setFakeNow(base);
    const queue = await createPartitionedQueue(db);
    await db.setFakeNow('2024-07-31T12:00:00Z');
    const spawned = await spawnTask(db, queue);
    assert.equal(await holdingChild(db, 't', queue, 'task_id', spawned.task_id), `t_${queue}_d`);
    await rejectsWith(db.query('select absurd.ensure_partitions($1)', [queue]), { code: '23514', message: new RegExp(`t_${queue}_d`) });
    assert.equal(await relkind(db, `r_${queue}_${await weekTag(db, '2024-07-31T12:00:00Z')}`), undefined);
  });

  test('P36: a same-named child from ten years earlier counts as present; rows then go to DEFAULT', async () => {
    await db.setFakeNow(base);
    const queue = await createPartitionedQueue(db);
    await db.setFakeNow('2034-04-05T12:00:00Z');
    await db.query('select absurd.ensure_partitions($1)', [queue]);
    assert.ok((await partitionBound(db, `t_${queue}_414`))?.includes('018e96f4-a800-7000-8000-000000000000'), 'the 2024 child is kept');
    const spawned = await spawnTask(db, queue);
    assert.equal(await holdingChild(db, 't', queue, 'task_id', spawned.task_id), `t_${queue}_d`);
    if (needsPostgres) return;
    const session = await db.connect();
    const warnings: string[] = [];
    session.on('notice', (notice) => warnings.push(notice.message ?? ''));
    await session.query(`select set_config('absurd.fake_now', '2034-04-05T12:00:00Z', false)`);
    await session.query('select absurd.ensure_partitions($1)', [queue]);
    assert.ok(warnings.some((text) => text.startsWith(`table absurd.t_${queue}_414 exists but is not the partition of absurd.t_${queue}`)),
      warnings.join('\n'));
  });

  test('P3, P9: every policy key is stored and read back, through the absurd-sdk client too', async () => {
    const queue = uniqueQueueName('policy');
    const absurd = db.sdk(queue);
    await absurd.createQueue(queue, { storageMode: 'partitioned' });
    await setPolicy(queue, {
      partition_lookahead: '35 days', partition_lookback: '2 days', cleanup_ttl: '12345 seconds', cleanup_limit: 77,
      detach_mode: 'empty', detach_min_age: '45 days', default_partition: 'disabled',
    });
    assert.deepEqual(await policy(queue), {
      storage_mode: 'partitioned', default_partition: 'disabled', partition_lookahead: '35 days', partition_lookback: '2 days',
      cleanup_ttl: '03:25:45', cleanup_limit: 77, detach_mode: 'empty', detach_min_age: '45 days',
    });
    await absurd.setQueuePolicy(queue, { cleanupTtl: '4321 seconds', cleanupLimit: 12 });
    const read = await absurd.getQueuePolicy(queue);
    assert.equal(read?.storageMode, 'partitioned');
    assert.match(String(read?.cleanupTtl), /1:12:01$/);
    assert.equal(read?.cleanupLimit, 12);
    await setPolicy(queue, { cleanup_ttl: 5, cleanup_limit: '12', detach_mode: 'EMPTY ' });
    assert.equal((await policy(queue)).cleanup_ttl, '00:00:05');
  });

  test('P4, P5, P10: unknown keys, bad values and default_partition on an unpartitioned queue are refused', async () => {
    const plain = await db.createQueue();
    const partitioned = await createPartitionedQueue(db);
    await rejectsWith(setPolicy(plain, { not_a_policy: true }), { message: /unknown queue policy key\(s\): 'not_a_policy'/ });
    await rejectsWith(setPolicy(plain, { cleanup_limit: 0 }), { message: /cleanup_limit must be an integer >= 1/ });
    await rejectsWith(setPolicy(plain, { cleanup_limit: 1.5 }), { code: '22P02', message: /cleanup_limit must be an integer/ });
    await rejectsWith(setPolicy(plain, { cleanup_limit: true }), { code: '22P02' });
    await rejectsWith(setPolicy(plain, { cleanup_ttl: 'banana' }), { code: '22007', message: /cleanup_ttl is not a valid interval/ });
    await rejectsWith(setPolicy(plain, { cleanup_ttl: null }), { code: '23502' });
    await rejectsWith(setPolicy(plain, { default_partition: 'disabled' }), { message: /default_partition applies only to partitioned queues/ });
    await rejectsWith(setPolicy(plain, { default_partition: 'bogus' }), { message: /default_partition must be 'enabled' or 'disabled', got "bogus"/ });
    await rejectsWith(setPolicy(partitioned, { default_partition: 'oops' }), { message: /default_partition must be 'enabled' or 'disabled'/ });
    await rejectsWith(setPolicy(uniqueQueueName('ghost'), { nope: 1 }), { message: /unknown queue policy key/ });
    await rejectsWith(setPolicy(uniqueQueueName('ghost'), { cleanup_ttl: 'banana' }), { message: /does not exist/ });
    await rejectsWith(setPolicy(plain, [1]), { message: /must be a JSON object/ });
    await db.query('select absurd.set_queue_policy($1, null)', [plain]);
    assert.equal((await policy(plain)).cleanup_limit, 1000, 'nothing changed');
  });

  test('P6: default partitions can be disabled (all four dropped) and enabled again', async () => {
    const queue = await createPartitionedQueue(db);
    for (const prefix of prefixes) assert.equal(await relkind(db, `${prefix}_${queue}_d`), 'r');
    await setPolicy(queue, { default_partition: 'disabled' });
    assert.equal((await policy(queue)).default_partition, 'disabled');
    for (const prefix of prefixes) assert.equal(await relkind(db, `${prefix}_${queue}_d`), undefined);
    await db.query(`select absurd.create_queue($1, 'partitioned')`, [queue]);
    for (const prefix of prefixes) assert.equal(await relkind(db, `${prefix}_${queue}_d`), undefined, 'create_queue keeps them disabled');
    await setPolicy(queue, { default_partition: 'enabled' });
    assert.equal((await policy(queue)).default_partition, 'enabled');
    for (const prefix of prefixes) assert.equal(await relkind(db, `${prefix}_${queue}_d`), 'r');
  });

  test('P7, P8: disabling defaults that hold rows is refused, names the first non-empty one, and changes nothing', async () => {
    await db.setFakeNow(base);
    const queue = await createPartitionedQueue(db);
    await db.setFakeNow(addDays(base, 120));
    await spawnTask(db, queue);
    await rejectsWith(setPolicy(queue, { default_partition: 'disabled' }),
      { message: new RegExp(`Cannot disable default_partition for queue "${queue}": default partition "t_${queue}_d" is not empty`) });
    assert.equal((await policy(queue)).default_partition, 'enabled');
    for (const prefix of prefixes) assert.equal(await partitionBound(db, `${prefix}_${queue}_d`), 'DEFAULT');
  });

  test('P40: with defaults disabled, a row outside every provisioned week fails instead of being placed', async () => {
    await db.setFakeNow(base);
    const queue = await createPartitionedQueue(db);
    await setPolicy(queue, { default_partition: 'disabled' });
    await spawnTask(db, queue);
    await db.setFakeNow(addDays(base, 120));
    await rejectsWith(db.query(`select * from absurd.spawn_task($1, 'work', '{}', '{}')`, [queue]), { code: '23514', message: /no partition/ });
  });

  test('P66, P67, P68: long and permissive names work in partitioned mode too', async () => {
    const long = 'p'.repeat(57);
    await db.query(`select absurd.create_queue($1, 'partitioned')`, [long]);
    assert.ok((await db.query('select * from absurd.list_queues()')).rows.some((row) => row.queue_name === long));
    await rejectsWith(db.query(`select absurd.create_queue($1, 'partitioned')`, ['p'.repeat(58)]), { message: /at most 57 bytes/ });
    await db.query('select absurd.drop_queue($1)', [long]);
    for (const stem of ['queue-1', 'UpperCase', 'bad space', '_bad', '-bad', "bad'quote"]) {
      const name = `${stem}${uniqueQueueName('')}`;
      await db.query(`select absurd.create_queue($1, 'partitioned')`, [name]);
      const spawned = await spawnTask(db, name, 'work', {}, { idempotency_key: 'k' });
      assert.equal((await spawnTask(db, name, 'work', {}, { idempotency_key: 'k' })).task_id, spawned.task_id);
      await db.query('select absurd.drop_queue($1)', [name]);
      assert.equal(await scalar(db, `select count(*)::int from pg_class where relnamespace = 'absurd'::regnamespace and relname like '%' || $1 || '%'`, [name]), 0, name);
    }
  });

  test('P71: truncating the five queue tables empties the children and leaves i_ alone', async () => {
    const queue = await createPartitionedQueue(db);
    await spawnTask(db, queue, 'work', {}, { idempotency_key: 'kept' });
    await db.query(`truncate ${['t', 'r', 'c', 'e', 'w'].map((prefix) => `absurd."${prefix}_${queue}"`).join(', ')}`);
    assert.equal(await scalar(db, `select count(*)::int from absurd."t_${queue}"`), 0);
    assert.equal(await scalar(db, `select count(*)::int from absurd."i_${queue}"`), 1);
  });

  test('§12.2, P69, P70: direct inserts rely on the column defaults; checkpoint status has no check', async () => {
    const queue = await createPartitionedQueue(db);
    const spawned = await spawnTask(db, queue);
    await db.query(`insert into absurd."w_${queue}" (task_id, run_id, step_name, event_name, timeout_at) values ($1, $2, 's', 'e', null)`,
      [spawned.task_id, spawned.run_id]);
    await db.query(`insert into absurd."c_${queue}" (task_id, checkpoint_name, state) values ($1, 'step', '1')`, [spawned.task_id]);
    await db.query(`update absurd."c_${queue}" set status = 'pending' where task_id = $1`, [spawned.task_id]);
    await db.query(`insert into absurd."e_${queue}" (event_name) values ('direct')`);
    await db.query(`insert into absurd."t_${queue}" (task_id, task_name, params, state) values (absurd.portable_uuidv7(), 'x', '{}', 'pending')`);
    assert.equal(await scalar(db, `select count(*)::int from absurd."t_${queue}" where enqueue_at is not null`), 2);
  });
});
