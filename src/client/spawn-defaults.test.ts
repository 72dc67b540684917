import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { defaultRetryStrategy } from './retry-defaults.ts';
import { readRegistration, withSpawnDefaults } from './spawn-defaults.ts';
import { taskVersionHeader } from './task-version.ts';

const fixed = { kind: 'fixed', baseSeconds: 9 } as const;

test('the spawn strategy wins over the task default, which wins over the client default', () => {
  const { defaults } = readRegistration({ name: 'analyse', defaultRetryStrategy: fixed }, 'agents');
  assert.deepEqual(withSpawnDefaults({ retryStrategy: { kind: 'none' } }, defaults, defaultRetryStrategy).retryStrategy, { kind: 'none' });
  assert.deepEqual(withSpawnDefaults(undefined, defaults, defaultRetryStrategy).retryStrategy, fixed);
  assert.deepEqual(withSpawnDefaults(undefined, undefined, defaultRetryStrategy).retryStrategy, defaultRetryStrategy);
});

test('a registration only fills in spawns for the queue it was registered on', () => {
  const { defaults } = readRegistration({ name: 'analyse', queue: 'agents_v2', version: 'v2', defaultRetryStrategy: fixed }, 'default');
  assert.deepEqual(withSpawnDefaults({ queue: 'agents_v2' }, defaults, defaultRetryStrategy).headers, { [taskVersionHeader]: 'v2' });
  const elsewhere = withSpawnDefaults({ queue: 'agents_v1' }, defaults, defaultRetryStrategy);
  assert.equal(elsewhere.headers, undefined);
  assert.deepEqual(elsewhere.retryStrategy, defaultRetryStrategy);
});

test('the registration options absurd-sdk does not know are kept out of its registration', () => {
  const { registration, versions } = readRegistration({ name: 'analyse', version: 'v3', acceptVersions: ['v1', 'v2'], defaultMaxAttempts: 3 }, 'q');
  assert.deepEqual(registration, { name: 'analyse', defaultMaxAttempts: 3 });
  assert.deepEqual(versions, { taskName: 'analyse', version: 'v3', acceptVersions: ['v1', 'v2'] });
  assert.throws(() => readRegistration({ name: 'analyse', acceptVersions: ['v 1'] }, 'q'), ConfigurationError);
  assert.throws(() => withSpawnDefaults({ version: '' }, undefined, defaultRetryStrategy), ConfigurationError);
});
