// Bad-input catalogue: databases this release cannot work with. A database migrated by a newer
// release, and (on Postgres) one without the schema, are refused with a message saying what to do,
// and refusing them changes nothing that is stored.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { Absurd } from '../../src/client/absurd.ts';
import { SchemaVersionError } from '../../src/errors/schema-version-error.ts';
import { migrate } from '../../src/schema/migrate.ts';
import { librarySchemaVersion } from '../../src/schema/migrations.ts';
import { createTestDatabase, uniqueQueueName, usingPostgres, type TestDatabase } from '../support/test-database.ts';
import { assertNothingStoredChanged, clearError, storedState } from './stored-state.ts';

describe('bad input: a database from a newer version', () => {
  let database: TestDatabase;
  let queueName: string;
  let taskID: string;

  before(async () => {
    database = await createTestDatabase();
    queueName = uniqueQueueName('newer');
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName });
    absurd.registerTask({ name: 'keep-me' }, async () => null);
    try {
      await absurd.createQueue();
      ({ taskID } = await absurd.spawn('keep-me', { note: 'stored by the current release' }));
    } finally {
      await absurd.close();
    }
    // What a newer release leaves behind: one more migration recorded than this release knows.
    await database.query(
      `insert into ai_sdk_absurd.schema_migrations (version, name, checksum) values ($1, 'from_the_future', 'ffffffffffffffff')`,
      [librarySchemaVersion() + 1],
    );
  });
  after(async () => {
    await database?.close();
  });

  const newerDatabase = [
    /schema is at version \d+, newer than the version \d+ this library knows/,
    /upgrade this package instead of downgrading the database/,
  ];

  test('a client refuses it on first use', async () => {
    const stored = await storedState(database);
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName });
    try {
      await assert.rejects(absurd.spawn('keep-me', {}, { queue: queueName }), clearError(SchemaVersionError, ...newerDatabase));
    } finally {
      await absurd.close().catch(() => {});
    }
    await assertNothingStoredChanged(database, stored);
  });

  test('migrate() refuses to touch it', async () => {
    const stored = await storedState(database);
    await assert.rejects(migrateTestDatabase(database), (error: unknown) => {
      clearError(SchemaVersionError, ...newerDatabase)(error);
      const versionError = error as SchemaVersionError;
      assert.equal(versionError.databaseVersion, librarySchemaVersion() + 1);
      assert.equal(versionError.libraryVersion, librarySchemaVersion());
      return true;
    });
    await assertNothingStoredChanged(database, stored);
    const { rows } = await database.query(`select params from absurd."t_${queueName}" where task_id = $1`, [taskID]);
    assert.deepEqual(rows[0]?.params, { note: 'stored by the current release' });
  });
});

describe('bad input: a Postgres database without the schema', { skip: !usingPostgres && 'embedded databases install the schema on open' }, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase({ migrated: false });
  });
  after(async () => {
    await database?.close();
  });

  test('a client says how to install it, and installs nothing unasked', async () => {
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('empty') });
    try {
      await assert.rejects(
        absurd.ready(),
        clearError(SchemaVersionError, /has no ai-sdk-absurd schema/, /npx ai-sdk-absurd init --db <url>/, /migrate: true/),
      );
    } finally {
      await absurd.close().catch(() => {});
    }
    const { rows } = await database.query(`select count(*)::int as count from pg_namespace where nspname in ('absurd', 'ai_sdk_absurd')`);
    assert.equal(rows[0].count, 0);
  });
});

async function migrateTestDatabase(database: TestDatabase) {
  if (database.kind === 'pglite') return migrate(database.db as PGlite);
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  try {
    return await migrate(pool);
  } finally {
    await pool.end();
  }
}
