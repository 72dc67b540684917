import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { openDatabase } from './open-database.ts';

// Port 1 on the loopback has no server: anything that tried to connect would fail.
const unreachable = 'postgres://nobody@127.0.0.1:1/none';

test('listenDb must be a postgres:// URL or false', () => {
  for (const listenDb of ['pglite:memory', 'mysql://db/app', '', 42, true]) {
    assert.throws(
      () => openDatabase(unreachable, { listenDb: listenDb as never }),
      (error: unknown) => error instanceof ConfigurationError && error.setting === 'listenDb' && /postgres:\/\/ URL of a direct/.test(error.message),
      String(listenDb),
    );
  }
});

test('listenDb: false subscribes without opening a connection, and logs nothing', async () => {
  const warnings: unknown[] = [];
  const { database } = openDatabase(unreachable, { listenDb: false, log: { warn: (...args) => warnings.push(args) } });
  const stop = await database.listen('absurd_wakeup', () => assert.fail('no notification can arrive'));
  await stop();
  await database.close();
  assert.deepEqual(warnings, []);
});
