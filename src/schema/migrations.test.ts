import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadMigrations, migrationChecksum, normalizeLineEndings } from './migrations.ts';

describe('migration checksums', () => {
  test('ignore line endings: CRLF, CR and LF copies of a migration have one checksum', () => {
    const lf = 'create table a (id int);\n-- a comment\nselect 1;\n';
    assert.equal(migrationChecksum(lf.replaceAll('\n', '\r\n')), migrationChecksum(lf));
    assert.equal(migrationChecksum(lf.replaceAll('\n', '\r')), migrationChecksum(lf));
    assert.equal(normalizeLineEndings('a\r\nb\rc\n'), 'a\nb\nc\n');
  });

  test('still tell apart migrations whose text differs', () => {
    assert.notEqual(migrationChecksum('select 1;\n'), migrationChecksum('select 2;\n'));
    assert.notEqual(migrationChecksum('select 1;\n'), migrationChecksum('select 1; \n'));
  });

  test('of the shipped migrations are those of their LF text', () => {
    for (const migration of loadMigrations()) {
      assert.ok(!migration.sql.includes('\r'), `${migration.name} is held with LF line endings`);
      assert.equal(migration.checksum, migrationChecksum(migration.sql.replaceAll('\n', '\r\n')));
    }
  });
});
