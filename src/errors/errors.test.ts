import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AiSdkAbsurdError,
  ApprovalError,
  ConfigurationError,
  InvalidPayloadError,
  NotInTaskError,
  SchemaVersionError,
} from './index.ts';

test('isInstance tells the error classes apart, on the base class matches them all', () => {
  const configuration = new ConfigurationError({ setting: 'db', message: 'bad' });
  assert.ok(ConfigurationError.isInstance(configuration));
  assert.ok(AiSdkAbsurdError.isInstance(configuration));
  assert.ok(!SchemaVersionError.isInstance(configuration));
  assert.ok(!NotInTaskError.isInstance(configuration));
  assert.ok(!ApprovalError.isInstance(new Error('plain')));
  assert.ok(!AiSdkAbsurdError.isInstance({ name: 'AiSdkAbsurdConfigurationError' }));
});

test('isInstance recognises an error from another copy of the package by its marker and name', () => {
  const foreign = Object.assign(new Error('from another copy'), { name: 'AiSdkAbsurdInvalidPayloadError' });
  (foreign as unknown as Record<symbol, boolean>)[Symbol.for('ai-sdk-absurd.error')] = true;
  assert.ok(InvalidPayloadError.isInstance(foreign));
  assert.ok(!ConfigurationError.isInstance(foreign));
});
