import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { assertRunVersion, headersWithVersion, taskVersion, taskVersionHeader, validateTaskVersion, versionedQueueName } from './task-version.ts';

test('versionedQueueName gives each version its own queue', () => {
  assert.equal(versionedQueueName('agents', 'v2'), 'agents_v2');
  assert.equal(versionedQueueName('agents', '2026-03-01'), 'agents_2026-03-01');
  assert.throws(() => versionedQueueName('agents', 'v 2'), ConfigurationError);
  assert.throws(() => versionedQueueName('a'.repeat(57), 'v2'), /over the limit of 57/);
});

test('a version is a short name without spaces', () => {
  for (const invalid of ['', ' v1', 'v/1', 'x'.repeat(33), 2, null]) {
    assert.throws(() => validateTaskVersion(invalid), (error: unknown) => error instanceof ConfigurationError && /Invalid task version/.test(error.message));
  }
  assert.equal(validateTaskVersion('v1.2_rc-3'), 'v1.2_rc-3');
});

test('headers record the version without dropping the caller’s own, nor one the caller set', () => {
  assert.deepEqual(headersWithVersion({ trace: 't1' }, 'v2'), { trace: 't1', [taskVersionHeader]: 'v2' });
  assert.deepEqual(headersWithVersion({ [taskVersionHeader]: 'v1' }, 'v2'), { [taskVersionHeader]: 'v1' });
  assert.equal(headersWithVersion(undefined, undefined), undefined);
  assert.equal(taskVersion({ headers: { [taskVersionHeader]: 'v3' } }), 'v3');
  assert.equal(taskVersion({ headers: {} }), undefined);
});

test('a run of another version is refused unless the handler accepts that version', () => {
  const ctx = { taskID: '0190e7a4-0000-7000-8000-000000000001', headers: { [taskVersionHeader]: 'v1' } };
  assert.throws(
    () => assertRunVersion({ taskName: 'analyse', version: 'v2', acceptVersions: [] }, ctx),
    (error: unknown) => error instanceof ConfigurationError && error.setting === 'version' && /spawned by version "v1"/.test(error.message),
  );
  assertRunVersion({ taskName: 'analyse', version: 'v2', acceptVersions: ['v1'] }, ctx);
  assertRunVersion({ taskName: 'analyse', version: 'v1', acceptVersions: [] }, ctx);
  assertRunVersion({ taskName: 'analyse', version: undefined, acceptVersions: [] }, ctx);
  assertRunVersion({ taskName: 'analyse', version: 'v2', acceptVersions: [] }, { ...ctx, headers: {} });
});
