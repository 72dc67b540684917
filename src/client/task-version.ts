// The version of a task's code, recorded with each run it spawns, so that a deploy can leave runs to the
// workers that still run the code that started them: each version works its own queue, and a worker only
// continues a run whose recorded version it was built for (or was told it may take over).
import type { JsonObject, TaskContext } from 'absurd-sdk';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { validateQueueName } from './queue-name.ts';

/** The task header that records the version of the code that spawned a run. */
export const taskVersionHeader = 'ai-sdk-absurd.version';

const versionPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** Rejects a version that cannot be part of a queue name or a header, with how to fix it. */
export function validateTaskVersion(version: unknown, setting = 'version'): string {
  if (typeof version !== 'string' || !versionPattern.test(version)) {
    throw new ConfigurationError({
      setting,
      message:
        `Invalid task version ${JSON.stringify(version) ?? String(version)}: a version is 1 to 32 letters, digits, ` +
        "dots, dashes or underscores, starting with a letter or digit, e.g. 'v2' or '2026-03-01'.",
    });
  }
  return version;
}

/**
 * The queue that runs `version` of the code working `queue`: give each version its own queue, so that a
 * worker of a new version never claims a run that the old code started.
 *
 * @example
 * ```ts
 * const version = 'v2';
 * const absurd = new Absurd({ db: 'pglite:memory', queueName: versionedQueueName('agents', version) });
 * // absurd.queue === 'agents_v2'
 * ```
 */
export function versionedQueueName(queue: string, version: string): string {
  validateQueueName(queue);
  return validateQueueName(`${queue}_${validateTaskVersion(version)}`);
}

/** The version recorded with the task that `ctx` runs, or undefined when it was spawned without one. */
export function taskVersion(ctx: Pick<TaskContext, 'headers'>): string | undefined {
  const recorded = ctx.headers[taskVersionHeader];
  return typeof recorded === 'string' ? recorded : undefined;
}

/** Spawn headers that record `version`, keeping the caller's headers (and a version the caller set). */
export function headersWithVersion(headers: JsonObject | undefined, version: string | undefined): JsonObject | undefined {
  if (version === undefined || headers?.[taskVersionHeader] !== undefined) return headers;
  return { ...headers, [taskVersionHeader]: version };
}

/** What a registration says about versions: its own, and older ones whose runs it may continue. */
export interface TaskVersionSettings {
  readonly taskName: string;
  readonly version: string | undefined;
  readonly acceptVersions: readonly string[];
}

/**
 * Refuses a run recorded by another version than the handler's: its checkpoints come from other code.
 * Runs spawned without a version, and handlers without one, are not checked.
 */
export function assertRunVersion(settings: TaskVersionSettings, ctx: Pick<TaskContext, 'headers' | 'taskID'>): void {
  const recorded = taskVersion(ctx);
  if (settings.version === undefined || recorded === undefined) return;
  if (recorded === settings.version || settings.acceptVersions.includes(recorded)) return;
  throw new ConfigurationError({
    setting: 'version',
    message:
      `Task ${ctx.taskID} ("${settings.taskName}") was spawned by version "${recorded}", but this worker runs version ` +
      `"${settings.version}". Give each version its own queue (versionedQueueName) so that old runs stay with old ` +
      `workers, or let this handler continue them: registerTask({ name, version: "${settings.version}", acceptVersions: ["${recorded}"] }).`,
  });
}
