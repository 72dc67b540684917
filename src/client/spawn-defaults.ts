// What a task's registration adds to its spawns: a retry strategy when the spawn gives none, and the
// version of the code that registered it, recorded in the task's headers.
import type { RetryStrategy, SpawnOptions, TaskRegistrationOptions } from 'absurd-sdk';
import { validateRetryStrategy } from './retry-defaults.ts';
import { headersWithVersion, validateTaskVersion, type TaskVersionSettings } from './task-version.ts';

/** The registration options this layer reads (the client adds `budget`, which it hands to the usage layer). */
export interface TaskRegistrationDefaults extends TaskRegistrationOptions {
  /** The retry strategy of this task's spawns that do not give one; default: the client's. */
  defaultRetryStrategy?: RetryStrategy;
  /**
   * The version of this handler's code, recorded with each run spawned through this client; a run recorded
   * by another version is refused (docs/deploy.md). Route versions to their own queues with `versionedQueueName`.
   */
  version?: string;
  /** Older versions whose in-flight runs this handler may continue (their checkpoints then replay into this code). */
  acceptVersions?: readonly string[];
}

/** What the client remembers of a registration to fill in spawn options. */
export interface SpawnDefaults {
  readonly queue: string;
  readonly retryStrategy: RetryStrategy | undefined;
  readonly version: string | undefined;
}

/** Splits registration options into absurd-sdk's, the spawn defaults, and the version check of each run. */
export function readRegistration(
  options: TaskRegistrationDefaults & { readonly budget?: unknown },
  clientQueue: string,
): { registration: TaskRegistrationOptions; defaults: SpawnDefaults; versions: TaskVersionSettings } {
  const { defaultRetryStrategy, version, acceptVersions = [], budget: _budget, ...registration } = options;
  const versions: TaskVersionSettings = {
    taskName: options.name,
    version: version === undefined ? undefined : validateTaskVersion(version),
    acceptVersions: (Array.isArray(acceptVersions) ? acceptVersions : [acceptVersions]).map((accepted: unknown) =>
      validateTaskVersion(accepted, 'acceptVersions'),
    ),
  };
  const defaults: SpawnDefaults = {
    queue: options.queue ?? clientQueue,
    retryStrategy: defaultRetryStrategy === undefined ? undefined : validateRetryStrategy(defaultRetryStrategy, 'defaultRetryStrategy'),
    version: versions.version,
  };
  return { registration, defaults, versions };
}

/**
 * The options a spawn goes to absurd-sdk with: the strategy of the spawn, else of the task's registration
 * (when the spawn is for the queue it was registered on), else the client's; and the version header.
 */
export function withSpawnDefaults(
  options: (SpawnOptions & { version?: string }) | undefined,
  registered: SpawnDefaults | undefined,
  clientRetryStrategy: RetryStrategy,
): SpawnOptions {
  const { version: spawnVersion, ...spawnOptions } = options ?? {};
  if (spawnOptions.retryStrategy !== undefined) validateRetryStrategy(spawnOptions.retryStrategy, 'retryStrategy');
  const own = registered && (spawnOptions.queue === undefined || spawnOptions.queue === registered.queue) ? registered : undefined;
  const headers = headersWithVersion(spawnOptions.headers, spawnVersion === undefined ? own?.version : validateTaskVersion(spawnVersion));
  return {
    ...spawnOptions,
    retryStrategy: spawnOptions.retryStrategy ?? own?.retryStrategy ?? clientRetryStrategy,
    ...(headers === undefined ? {} : { headers }),
  };
}
