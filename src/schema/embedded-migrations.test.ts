import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { migrationFiles, renderEmbeddedModule } from '../../scripts/embed-migrations.ts';
import { embeddedMigrations } from './embedded-migrations.ts';
import { loadMigrations, sequenceMigrations } from './migrations.ts';

describe('embedded migrations', () => {
  test('hold exactly the files of sql/migrations/ (regenerate: node scripts/embed-migrations.ts)', () => {
    const files = migrationFiles();
    assert.deepEqual(
      embeddedMigrations.map((migration) => migration.file),
      files.map((migration) => migration.file),
      'the embedded module names other files than sql/migrations/ holds',
    );
    for (const [index, migration] of embeddedMigrations.entries()) {
      assert.equal(migration.sql, files[index]!.sql, `${migration.file} differs from sql/migrations/${migration.file}`);
    }
  });

  test('render the same module from the same files, and another from changed ones', () => {
    const files = migrationFiles();
    assert.equal(renderEmbeddedModule(files), renderEmbeddedModule(migrationFiles()));
    const edited = files.map((migration, index) => (index === 0 ? { ...migration, sql: `${migration.sql}-- edited\n` } : migration));
    assert.notEqual(renderEmbeddedModule(edited), renderEmbeddedModule(files));
  });

  test('are what the library loads, numbered from 1 without a gap', () => {
    const migrations = loadMigrations();
    assert.equal(migrations.length, embeddedMigrations.length);
    migrations.forEach((migration, index) => assert.equal(migration.version, index + 1));
  });

  test('refuse a gap in the numbering and a badly named file', () => {
    assert.throws(
      () => sequenceMigrations([{ file: '0001_a.sql', sql: 'select 1;' }, { file: '0003_c.sql', sql: 'select 3;' }]),
      /Migration 0003_c\.sql is out of sequence: expected number 2/,
    );
    assert.throws(() => sequenceMigrations([{ file: '0001_Bad-Name.sql', sql: 'select 1;' }]), /is not named NNNN_name\.sql/);
    assert.deepEqual(
      sequenceMigrations([{ file: '0002_b.sql', sql: 'b' }, { file: '0001_a.sql', sql: 'a\r\n' }]).map((migration) => [migration.version, migration.sql]),
      [[1, 'a\n'], [2, 'b']],
    );
  });
});
