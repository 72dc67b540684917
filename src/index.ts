/**
 * ai-sdk-absurd: durable Vercel AI SDK agents on Postgres alone.
 * @module
 */
export { Absurd, wakeupChannel, type AbsurdOptions, type Worker } from './client/absurd.ts';
export { getCurrentTask, type CurrentTask } from './client/current-task.ts';
export { migrate, printSql, databaseSchemaVersion, type MigrateResult, type MigrationTarget } from './schema/migrate.ts';
export { librarySchemaVersion } from './schema/migrations.ts';
export type { Database, Queryable } from './db/database.ts';
export * from './errors/index.ts';
export {
  CancelledTask,
  FailedTask,
  SuspendTask,
  TimeoutError,
  TaskContext,
  type JsonValue,
  type JsonObject,
  type SpawnOptions,
  type SpawnResult,
  type TaskResultSnapshot,
  type TaskHandler,
  type WorkerOptions,
  type ClaimedTask,
} from 'absurd-sdk';
