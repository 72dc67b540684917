import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { Absurd } from '../../src/client/absurd.ts';
import { SchemaVersionError } from '../../src/errors/schema-version-error.ts';
import { databaseSchemaVersion, migrate, printSql } from '../../src/schema/migrate.ts';
import { librarySchemaVersion, loadMigrations } from '../../src/schema/migrations.ts';
import { freshSchemaSql, renderSchemaSql, schemaFile } from '../../scripts/generate-schema.ts';
import { schemaSnapshot } from '../support/schema-snapshot.ts';
import { createTestDatabase, usingPostgres } from '../support/test-database.ts';
import { execScript, installThrough } from './install-through.ts';

describe('migrations', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('are numbered from 0001 without gaps and end at the library version', () => {
    const migrations = loadMigrations();
    assert.ok(migrations.length >= 1);
    migrations.forEach((migration, index) => assert.equal(migration.version, index + 1));
    assert.equal(librarySchemaVersion(), migrations.length);
  });

  test('a fresh install from print-sql and the migration chain produce the same schema', async () => {
    const chained = await createTestDatabase();
    cleanups.push(() => chained.close());
    const fresh = await createTestDatabase({ migrated: false });
    cleanups.push(() => fresh.close());
    await execScript(fresh, printSql());
    assert.deepEqual(await schemaSnapshot(fresh), await schemaSnapshot(chained));
    assert.equal(await renderSchemaSql(fresh), await renderSchemaSql(chained));
    assert.equal(await databaseSchemaVersion(fresh), librarySchemaVersion());
  });

  test('the committed sql/schema.sql is the schema of a fresh install (regenerate: node scripts/generate-schema.ts)', async () => {
    assert.equal(await readFile(schemaFile, 'utf8'), await freshSchemaSql());
  });

  test('a queue created before migration 3 gains its replay function and compression, and keeps its work', async () => {
    const database = await createTestDatabase({ migrated: false });
    cleanups.push(() => database.close());
    await installThrough(database, 2);
    await execScript(database, `select absurd.create_queue('legacy');
      select absurd.spawn_task('legacy', 'kept', '{"n": 1}'::jsonb, '{}'::jsonb);`);
    const target = database.kind === 'pglite' ? (database.db as PGlite) : new pg.Pool({ connectionString: database.url, max: 2 });
    try {
      assert.deepEqual((await migrate(target)).applied, loadMigrations().slice(2).map((migration) => migration.version));
    } finally {
      if (target instanceof pg.Pool) await target.end();
    }
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: 'legacy', log: { ...console, warn() {}, error() {} } });
    try {
      absurd.registerTask({ name: 'kept' }, async (params: { n: number }, ctx) => ctx.step('double', async () => params.n * 2));
      await absurd.workBatch('worker', 60, 1);
      const { rows } = await absurd.database.query(`select completed_payload from absurd.t_legacy`);
      assert.deepEqual(rows, [{ completed_payload: 2 }]);
      const { rows: compression } = await absurd.database.query(
        `select a.attcompression::text as method,
                exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)) as available
         from pg_attribute a where a.attrelid = 'absurd.c_legacy'::regclass and a.attname = 'state'`,
      );
      assert.equal(compression[0].method, compression[0].available ? 'l' : '');
    } finally {
      await absurd.close();
    }
  });

  test('a queue created before migration 8 gets the checkpoint function that decides ownership after the lock', async () => {
    const database = await createTestDatabase({ migrated: false });
    cleanups.push(() => database.close());
    await installThrough(database, 7);
    await execScript(database, `select absurd.create_queue('legacy')`);
    const target = database.kind === 'pglite' ? (database.db as PGlite) : new pg.Pool({ connectionString: database.url, max: 2 });
    try {
      assert.deepEqual((await migrate(target)).applied, loadMigrations().slice(7).map((migration) => migration.version));
    } finally {
      if (target instanceof pg.Pool) await target.end();
    }
    await execScript(database, `select absurd.create_queue('fresh')`);
    const checkpointFunction = async (queue: string) => {
      const { rows } = await database.query(
        `select pg_get_functiondef(to_regproc('absurd.' || absurd.queue_function_name($1, 'checkpoint'))) as body`,
        [queue],
      );
      return String(rows[0].body).replaceAll(queue, '<queue>').replace(/q[0-9a-f]{24}_checkpoint/, '<name>');
    };
    const legacy = await checkpointFunction('legacy');
    assert.match(legacy, /for no key update/, 'the run is locked before its state is read');
    assert.equal(legacy, await checkpointFunction('fresh'));
  });

  test('re-running migrate is harmless and reports nothing applied', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.close());
    const before = await schemaSnapshot(database);
    const target = database.kind === 'pglite' ? (database.db as PGlite) : new pg.Pool({ connectionString: database.url, max: 2 });
    try {
      const result = await migrate(target);
      assert.deepEqual(result.applied, []);
      assert.equal(result.version, librarySchemaVersion());
    } finally {
      if (target instanceof pg.Pool) await target.end();
    }
    assert.deepEqual(await schemaSnapshot(database), before);
  });

  test('several processes migrating at once apply each migration exactly once', { skip: !usingPostgres && 'needs Postgres (set TEST_DATABASE_URL)' }, async () => {
    const database = await createTestDatabase({ migrated: false });
    cleanups.push(() => database.close());
    const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: database.url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool)));
      const appliedCounts = results.map((result) => result.applied.length).sort();
      assert.deepEqual(appliedCounts, [0, 0, 0, 0, 0, librarySchemaVersion()]);
      const { rows } = await database.query('select count(*)::int as count from ai_sdk_absurd.schema_migrations');
      assert.equal(rows[0].count, librarySchemaVersion());
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  test('a database migrated by a newer version is refused by migrate() and by the client', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.close());
    const newer = librarySchemaVersion() + 1;
    await database.query(`insert into ai_sdk_absurd.schema_migrations (version, name, checksum) values ($1, 'from_the_future', 'x')`, [newer]);
    const target = database.kind === 'pglite' ? (database.db as PGlite) : new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      await assert.rejects(migrate(target), (error: unknown) => {
        assert.ok(SchemaVersionError.isInstance(error));
        assert.match((error as Error).message, new RegExp(`version ${newer}, newer than the version ${librarySchemaVersion()}`));
        assert.match((error as Error).message, /upgrade this package/);
        return true;
      });
    } finally {
      if (target instanceof pg.Pool) await target.end();
    }
    if (database.kind === 'postgres') {
      const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: 'q' });
      await assert.rejects(absurd.ready(), (error: unknown) => SchemaVersionError.isInstance(error));
      await absurd.close();
    }
    // Nothing stored was touched: the bookkeeping row is still there.
    const { rows } = await database.query('select max(version)::int as version from ai_sdk_absurd.schema_migrations');
    assert.equal(rows[0].version, newer);
  });

  test('a Postgres database without the schema gets an error that says how to install it', { skip: !usingPostgres && 'needs Postgres (set TEST_DATABASE_URL)' }, async () => {
    const database = await createTestDatabase({ migrated: false });
    cleanups.push(() => database.close());
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: 'q' });
    try {
      await assert.rejects(absurd.createQueue(), (error: unknown) => {
        assert.ok(SchemaVersionError.isInstance(error));
        assert.match((error as Error).message, /npx ai-sdk-absurd init/);
        return true;
      });
    } finally {
      await absurd.close();
    }
    const migrating = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: 'q', migrate: true });
    try {
      await migrating.createQueue();
      assert.deepEqual(await migrating.listQueues(), ['q']);
    } finally {
      await migrating.close();
    }
  });
});
