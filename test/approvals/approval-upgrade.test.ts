// Approvals recorded before requests had their own ids (schema 6) stay readable and decidable after
// migration 0007, and a task that an older release suspended on one is woken by the decision.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { recordApprovalRequest } from '../../src/approvals/approval-store.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { fingerprint } from '../../src/codec/fingerprint.ts';
import { loadMigrations } from '../../src/schema/migrations.ts';
import { migrate } from '../../src/schema/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';

const queue = 'upgraded';
const legacyEvent = (taskID: string) => `ai-sdk-absurd:approval:${taskID}:call-refund`;

describe('approvals recorded before migration 0007', () => {
  let database: TestDatabase;
  let taskID: string;
  before(async () => {
    database = await createTestDatabase({ migrated: false });
    const older = loadMigrations().filter((migration) => migration.version <= 6);
    await runScript(database, [
      'create schema if not exists ai_sdk_absurd;',
      `create table ai_sdk_absurd.schema_migrations (version integer primary key, name text not null,
         checksum text not null, applied_at timestamptz not null default now());`,
      ...older.map((migration) => migration.sql),
      ...older.map(
        (migration) =>
          `insert into ai_sdk_absurd.schema_migrations (version, name, checksum) values (${migration.version}, '${migration.name}', '${migration.checksum}');`,
      ),
      `select absurd.create_queue('${queue}');`,
    ]);
    const { rows } = await database.query(`select task_id::text from absurd.spawn_task('${queue}', 'wait', '{}'::jsonb, '{}'::jsonb)`);
    taskID = rows[0].task_id;
    await database.query(
      `insert into ai_sdk_absurd.tool_approvals
         (task_id, tool_call_id, queue_name, tool_name, input, input_digest, event_name, requested_at)
       values ($1, 'call-refund', $2, 'refund', '{"amount":42}', $3, $4, now())`,
      [taskID, queue, fingerprint({ amount: 42 }), legacyEvent(taskID)],
    );
    await onDatabase(database, (target) => migrate(target));
  });
  after(async () => {
    await database.close();
  });

  test('the stored request is listed with a request id, adopted by the resumed run, and its decision wakes the task', async () => {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: queue });
    try {
      const [legacy] = await absurd.listPendingApprovals({ taskID });
      assert.deepEqual([legacy?.toolCallId, legacy?.input], ['call-refund', { amount: 42 }]);
      assert.match(legacy!.requestId, /^[0-9a-f-]{36}$/);
      const adopted = await recordApprovalRequest(absurd.database, {
        taskID,
        requestKey: 'support:1/model:1/tool:refund:call-refund',
        toolCallId: 'call-refund',
        queueName: queue,
        toolName: 'refund',
        input: { amount: 42 },
        inputDigest: fingerprint({ amount: 42 }),
        timeoutSeconds: null,
      });
      assert.equal(adopted, legacy!.requestId);
      assert.equal((await absurd.listPendingApprovals({ taskID })).length, 1);
      await absurd.approveToolCall({ taskID, toolCallId: 'call-refund', approved: true });
      const { rows } = await database.query(`select payload from absurd."e_${queue}" where event_name = $1`, [legacyEvent(taskID)]);
      assert.equal(rows[0]?.payload.approved, true);
    } finally {
      await absurd.close();
    }
  });
});

async function runScript(database: TestDatabase, statements: string[]): Promise<void> {
  const script = statements.join('\n');
  await onDatabase(database, async (target) => {
    if ('exec' in target) await target.exec(script);
    else await target.query(script);
  });
}

/** Runs `use` with the embedded instance, or a client connected to the Postgres database. */
async function onDatabase(database: TestDatabase, use: (target: PGlite | pg.Client) => Promise<unknown>): Promise<void> {
  if (database.kind === 'pglite') {
    await use(database.db as PGlite);
    return;
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await use(client);
  } finally {
    await client.end();
  }
}
