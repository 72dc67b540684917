// Queues: name validation (including hostile names), create/drop/list, storage modes, policies,
// and the error a caller gets for a queue that does not exist.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  claimOne,
  completeRun,
  rejectsWith,
  spawnTask,
  useProtocolDatabase,
  writeCheckpoint,
} from '../support/protocol-helpers.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { replayFunctionName } from '../../src/client/claimed-run-queries.ts';

describe('protocol: queues', () => {
  const db = useProtocolDatabase();

  const create = (name: unknown, mode?: unknown) =>
    mode === undefined ? db.query('select absurd.create_queue($1)', [name]) : db.query('select absurd.create_queue($1, $2)', [name, mode]);
  const tablesOf = async (name: string) =>
    (
      await db.query(
        `select tablename from pg_tables where schemaname = 'absurd' and right(tablename, length($1) + 1) = '_' || $1 order by tablename`,
        [name],
      )
    ).rows.map((row) => row.tablename);
  const generatedFunctions = async (name: string) =>
    (
      await db.query(`select count(*)::int as count from pg_proc where pronamespace = 'absurd'::regnamespace and starts_with(proname, absurd.queue_function_name($1, ''))`, [
        name,
      ])
    ).rows[0].count;

  test('a queue has exactly the five tables c_, e_, r_, t_, w_, and drop_queue removes them and its functions', async () => {
    const name = uniqueQueueName('tables');
    await create(name);
    assert.deepEqual(await tablesOf(name), ['c', 'e', 'r', 't', 'w'].map((prefix) => `${prefix}_${name}`));
    assert.ok((await generatedFunctions(name)) > 0);
    await create(name);
    assert.equal((await tablesOf(name)).length, 5, 'creating again is harmless');
    await db.query('select absurd.drop_queue($1)', [name]);
    assert.deepEqual(await tablesOf(name), []);
    assert.equal(await generatedFunctions(name), 0);
    assert.deepEqual((await db.query('select * from absurd.get_queue_policy($1)', [name])).rows, []);
    await db.query('select absurd.drop_queue($1)', [name]);
    await db.query('select absurd.drop_queue($1)', ['never-created']);
  });

  test('names are limited to 57 UTF-8 bytes (not characters) and must not be empty or NULL; control characters are allowed', async () => {
    const fiftySeven = `${'é'.repeat(28)}a`;
    assert.equal(Buffer.byteLength(fiftySeven), 57);
    await create(fiftySeven);
    const spawned = await spawnTask(db, fiftySeven, 'ok');
    assert.equal((await claimOne(db, fiftySeven)).run_id, spawned.run_id);
    const fiftyEight = `${'é'.repeat(29)}`;
    assert.equal(Buffer.byteLength(fiftyEight), 58);
    await rejectsWith(create(fiftyEight), { message: /58 bytes long in UTF-8; queue names may be at most 57 bytes/ });
    await rejectsWith(create(''), { message: /must not be empty/ });
    await rejectsWith(create(null), { message: /must not be null/ });
    for (const name of [uniqueQueueName('tab\there'), uniqueQueueName('line\nbreak')]) {
      await create(name);
      assert.deepEqual(await tablesOf(name), ['c', 'e', 'r', 't', 'w'].map((prefix) => `${prefix}_${name}`));
      await db.query('select absurd.drop_queue($1)', [name]);
    }
    await rejectsWith(db.query('select absurd.set_queue_policy($1, $2)', [fiftyEight, '{}']), { message: /at most 57 bytes/ });
    await rejectsWith(db.query('select * from absurd.get_task_result($1, $2)', [fiftyEight, spawned.task_id]), { message: /at most 57 bytes/ });
    await rejectsWith(db.query('select absurd.cleanup_tasks($1, 60)', [fiftyEight]), { message: /at most 57 bytes/ });
    await db.query('select absurd.drop_queue($1)', [fiftySeven]);
  });

  test('a legacy queue whose name is now too long can still be dropped', async () => {
    const legacy = `legacy_${'x'.repeat(51)}`;
    assert.equal(Buffer.byteLength(legacy), 58);
    await db.query('insert into absurd.queues (queue_name) values ($1)', [legacy]);
    await db.query('select absurd.ensure_queue_tables($1)', [legacy]);
    assert.equal((await tablesOf(legacy)).length, 5);
    await db.query('select absurd.drop_queue($1)', [legacy]);
    assert.deepEqual(await tablesOf(legacy), []);
  });

  test('odd and hostile names work through the whole protocol without touching anything else', async () => {
    await db.query('create table if not exists public.foo (id int)');
    for (const name of [`bad'quote`, 'bad space', 'UpperCase', '-bad', 'x"; drop table foo; --', "'); drop table public.foo; --", '_lead', ' ', 'ünïcødé']) {
      await create(name);
      const { rows: named } = await db.query(`select absurd.queue_function_name($1, 'replay') as name`, [name]);
      assert.equal(replayFunctionName(name), named[0].name, 'the client names the replay function as the schema does');
      const absurd = db.sdk(name);
      absurd.registerTask({ name: 'echo' }, async (params: { v: string }, context) => {
        const value = await context.step('step', async () => params.v);
        await context.emitEvent('seen', value);
        return { value, event: await context.awaitEvent('seen') };
      });
      const { taskID } = await absurd.spawn('echo', { v: name });
      await absurd.workBatch('w', 60, 1);
      assert.deepEqual(await absurd.fetchTaskResult(taskID), { state: 'completed', result: { value: name, event: name } }, `queue ${JSON.stringify(name)}`);
      const other = await absurd.spawn('echo', { v: 'cancel me' });
      await absurd.cancelTask(other.taskID);
      assert.ok((await absurd.listQueues()).includes(name));
      await absurd.dropQueue(name);
      assert.deepEqual(await tablesOf(name), []);
    }
    const { rows } = await db.query(`select to_regclass('public.foo') is not null as present`);
    assert.equal(rows[0].present, true, 'the injected drop never ran');
  });

  test('large JSON columns use lz4 where the server has it, and repeating create_queue leaves them as they are', async () => {
    const name = uniqueQueueName('compress');
    await create(name);
    const lz4 = (
      await db.query(`select 'lz4' = any(enumvals) as available from pg_settings where name = 'default_toast_compression'`)
    ).rows[0].available;
    const compressionOf = async () =>
      (
        await db.query(
          `select c.relname || '.' || a.attname as column_name, a.attcompression::text as method
           from pg_attribute a join pg_class c on c.oid = a.attrelid
           where c.relnamespace = 'absurd'::regnamespace and c.relname || '.' || a.attname = any($1)
           order by 1`,
          [[`c_${name}.state`, `t_${name}.params`, `t_${name}.completed_payload`, `r_${name}.result`]],
        )
      ).rows;
    const expected = [`c_${name}.state`, `r_${name}.result`, `t_${name}.completed_payload`, `t_${name}.params`].map((column) => ({
      column_name: column,
      method: lz4 ? 'l' : '',
    }));
    assert.deepEqual(await compressionOf(), expected);
    await create(name);
    assert.deepEqual(await compressionOf(), expected);
    const claimed = await (async () => {
      const spawned = await spawnTask(db, name, 'large');
      return { spawned, run: await claimOne(db, name) };
    })();
    const large = { text: 'lorem ipsum '.repeat(5_000) };
    await writeCheckpoint(db, name, claimed.spawned.task_id, 'large', large, claimed.run.run_id);
    const { rows } = await db.query(`select state from absurd.get_task_checkpoint_state($1, $2, 'large')`, [name, claimed.spawned.task_id]);
    assert.deepEqual(rows[0].state, large);
  });

  test('create_queue is idempotent, rejects unknown modes, and creates partitioned storage by name', async () => {
    const name = uniqueQueueName();
    await create(name);
    await create(name, ' Unpartitioned ');
    await rejectsWith(create(name, 'sharded'), { message: /unknown storage mode 'sharded'/ });
    await rejectsWith(create(uniqueQueueName(), null), { message: /unknown storage mode NULL/ });
    const partitioned = uniqueQueueName('part');
    await db.sdk(partitioned).createQueue(partitioned, { storageMode: 'partitioned' });
    assert.equal((await tablesOf(partitioned)).length, 6, 'five queue tables and the idempotency table');
    await rejectsWith(create(partitioned, 'unpartitioned'), { message: /already exists with storage mode partitioned, not unpartitioned/ });
    const mismatched = uniqueQueueName('mismatch');
    await db.query(`insert into absurd.queues (queue_name, storage_mode) values ($1, 'partitioned')`, [mismatched]);
    await rejectsWith(create(mismatched), { message: /already exists with storage mode partitioned, not unpartitioned/ });
  });

  test('list_queues returns every registered queue sorted by name', async () => {
    const names = ['zz_list', 'aa_list', 'mm_list'].map((prefix) => uniqueQueueName(prefix));
    for (const name of names) await create(name);
    const listed: string[] = (await db.query('select * from absurd.list_queues()')).rows.map((row) => row.queue_name);
    const ours = listed.filter((name) => names.includes(name));
    assert.deepEqual(ours, [...names].sort());
    assert.deepEqual(listed, [...listed].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0)));
  });

  test('the registry fills every policy default, and policies round-trip intervals as given', async () => {
    const bare = uniqueQueueName('bare');
    await db.query('insert into absurd.queues (queue_name) values ($1)', [bare]);
    const { rows } = await db.query(
      `select storage_mode, default_partition, partition_lookahead::text, partition_lookback::text, cleanup_ttl::text,
              cleanup_limit, detach_mode, detach_min_age::text from absurd.get_queue_policy($1)`,
      [bare],
    );
    assert.deepEqual(rows, [
      {
        storage_mode: 'unpartitioned',
        default_partition: 'enabled',
        partition_lookahead: '28 days',
        partition_lookback: '1 day',
        cleanup_ttl: '30 days',
        cleanup_limit: 1000,
        detach_mode: 'none',
        detach_min_age: '30 days',
      },
    ]);
    const name = uniqueQueueName('policy');
    const absurd = db.sdk(name);
    await absurd.createQueue(name, { cleanupTtl: '35 days', cleanupLimit: 10, detachMinAge: '12345 seconds', detachMode: ' EMPTY ' as 'empty' });
    assert.deepEqual(await absurd.getQueuePolicy(name), {
      queueName: name,
      storageMode: 'unpartitioned',
      partitionLookahead: '28 days',
      partitionLookback: '1 day',
      cleanupTtl: '35 days',
      cleanupLimit: 10,
      detachMode: 'empty',
      detachMinAge: '03:25:45',
    });
    await absurd.setQueuePolicy(name, { partitionLookahead: '7 days' });
    assert.equal((await absurd.getQueuePolicy(name))?.cleanupTtl, '35 days', 'absent keys keep their values');
    assert.equal((await absurd.getQueuePolicy(name))?.partitionLookahead, '7 days');
    assert.equal(await absurd.getQueuePolicy(uniqueQueueName('absent')), null);
  });

  test('set_queue_policy rejects unknown keys, bad values, default_partition and unknown queues', async () => {
    const name = uniqueQueueName();
    await create(name);
    const set = (policy: unknown, queue = name) => db.query('select absurd.set_queue_policy($1, $2)', [queue, JSON.stringify(policy)]);
    await rejectsWith(set({ cleanup_ttl: '1 day', retention: '2 days' }), { message: /unknown queue policy key\(s\): 'retention'/ });
    await rejectsWith(set([1]), { message: /must be a JSON object/ });
    await rejectsWith(set({ cleanup_ttl: '-1 day' }), { message: /cleanup_ttl must not be negative/ });
    await rejectsWith(set({ cleanup_ttl: 'forever' }), { message: /cleanup_ttl is not a valid interval/ });
    await rejectsWith(set({ cleanup_limit: 0 }), { message: /cleanup_limit must be an integer >= 1/ });
    await rejectsWith(set({ detach_mode: 'sometimes' }), { message: /detach_mode must be 'none' or 'empty'/ });
    await rejectsWith(set({ default_partition: 'enabled' }), { message: /default_partition applies only to partitioned queues, and queue .* is unpartitioned/ });
    await rejectsWith(set({ cleanup_ttl: '1 day' }, uniqueQueueName('ghost')), { message: /does not exist; create it with absurd\.createQueue/ });
    const { rows } = await db.query('select cleanup_ttl::text from absurd.get_queue_policy($1)', [name]);
    assert.deepEqual(rows, [{ cleanup_ttl: '30 days' }], 'failed updates change nothing');
  });

  test('an unknown queue gets an error that says how to create it', async () => {
    const ghost = uniqueQueueName('ghost');
    const expected = { code: '42P01', message: new RegExp(`queue ${ghost} does not exist; create it with absurd\\.createQueue\\('${ghost}'\\)`) };
    await rejectsWith(spawnTask(db, ghost, 'x'), expected);
    await rejectsWith(db.query('select * from absurd.claim_task($1, $2)', [ghost, 'w']), expected);
    await rejectsWith(db.query('select absurd.emit_event($1, $2)', [ghost, 'e']), expected);
    await rejectsWith(db.query('select absurd.complete_run($1, $2)', [ghost, '00000000-0000-7000-8000-000000000000']), expected);
    await rejectsWith(writeCheckpoint(db, ghost, '00000000-0000-7000-8000-000000000000', 's', 1, '00000000-0000-7000-8000-000000000000'), expected);
    await rejectsWith(db.query('select * from absurd.get_task_checkpoint_state($1, $2, $3)', [ghost, '00000000-0000-7000-8000-000000000000', 's']), expected);
    await rejectsWith(db.query('select * from absurd.get_task_result($1, $2)', [ghost, '00000000-0000-7000-8000-000000000000']), expected);
    await rejectsWith(db.query('select absurd.cancel_task($1, $2)', [ghost, '00000000-0000-7000-8000-000000000000']), expected);
    await rejectsWith(db.query('select absurd.fail_run($1, $2, $3)', [ghost, '00000000-0000-7000-8000-000000000000', '{}']), expected);
    await rejectsWith(db.query('select absurd.extend_claim($1, $2, 30)', [ghost, '00000000-0000-7000-8000-000000000000']), expected);
    await rejectsWith(db.query('select absurd.schedule_run($1, $2, now())', [ghost, '00000000-0000-7000-8000-000000000000']), expected);
    await rejectsWith(
      db.query('select * from absurd.get_task_checkpoint_states($1, $2, $3)', [ghost, '00000000-0000-7000-8000-000000000000', '00000000-0000-7000-8000-000000000000']),
      expected,
    );
    await rejectsWith(
      db.query('select * from absurd.await_event($1, $2, $3, $4, $5)', [ghost, '00000000-0000-7000-8000-000000000000', '00000000-0000-7000-8000-000000000000', 's', 'e']),
      expected,
    );
    await rejectsWith(db.query('select * from absurd.retry_task($1, $2)', [ghost, '00000000-0000-7000-8000-000000000000']), expected);
    await rejectsWith(db.sdk(ghost).spawn('x', {}, { queue: ghost }), expected);
  });

  test('the SDK creates, uses, lists and drops a queue', async () => {
    const name = uniqueQueueName('sdk');
    const absurd = db.sdk(name);
    await absurd.createQueue();
    const spawned = await absurd.spawn('job', { n: 1 }, { queue: name });
    const claimed = await claimOne(db, name);
    await completeRun(db, name, claimed.run_id, 'fine');
    assert.deepEqual(await absurd.fetchTaskResult(spawned.taskID), { state: 'completed', result: 'fine' });
    assert.ok((await absurd.listQueues()).includes(name));
    await absurd.dropQueue();
    assert.ok(!(await absurd.listQueues()).includes(name));
  });
});
