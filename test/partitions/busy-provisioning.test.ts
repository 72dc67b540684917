// Provisioning a week's partitions beside a busy queue: a creation that cannot lock its parent in time
// gives way (no deadlock with complete_run or fail_run), and the next ensure_partitions creates it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { needsPostgres, useProtocolDatabase } from '../support/protocol-helpers.ts';
import { addDays, createPartitionedQueue, relkind, weekTag } from './partition-helpers.ts';

const base = '2024-05-01T09:00:00.000Z';

describe('partitions: provisioning beside a busy queue', () => {
  const db = useProtocolDatabase({ fakeNow: base });

  test('a child whose parent is held by another transaction is left for the next ensure_partitions', { skip: needsPostgres }, async () => {
    const queue = await createPartitionedQueue(db, 'busy_partitioned');
    const later = addDays(base, 70).toISOString();
    const tag = await weekTag(db, addDays(later, 28));
    const holder = await db.connect();
    const provisioner = await db.connect();
    const warnings: string[] = [];
    provisioner.on('notice', (notice) => warnings.push(notice.message ?? ''));
    try {
      await provisioner.query(`select set_config('absurd.fake_now', $1, false)`, [later]);
      // What a run being completed holds: a row lock's table lock on r_<queue>.
      await holder.query('begin');
      await holder.query(`lock table absurd."r_${queue}" in row exclusive mode`);
      await provisioner.query('select absurd.ensure_partitions($1)', [queue]);
      assert.ok(
        warnings.some((message) => message.includes(`r_${queue}`) && /was busy, so its partition/.test(message)),
        `a warning names the busy parent: ${JSON.stringify(warnings)}`,
      );
      assert.equal(await relkind(db, `t_${queue}_${tag}`), 'r', 'the other parents got their child');
      assert.equal(await relkind(db, `c_${queue}_${tag}`), 'r');
      assert.equal(await relkind(db, `r_${queue}_${tag}`), undefined, 'the busy parent did not');
      assert.equal((await provisioner.query(`select current_setting('lock_timeout') as value`)).rows[0].value, '0', 'lock_timeout is restored');
      await holder.query('commit');
      await provisioner.query('select absurd.ensure_partitions($1)', [queue]);
      assert.equal(await relkind(db, `r_${queue}_${tag}`), 'r', 'created once the parent was free');
    } finally {
      await holder.query('rollback').catch(() => {});
      await holder.end();
      await provisioner.end();
    }
  });
});
