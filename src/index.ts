/**
 * ai-sdk-absurd: durable Vercel AI SDK agents on Postgres alone.
 *
 * Wrap an ordinary AI SDK agent in `AbsurdAgent`, call it inside an Absurd task, and every model
 * call, tool call and MCP call becomes a checkpoint; a crashed run resumes without repeating them.
 * @module
 */
export { Absurd, wakeupChannel, type AbsurdOptions, type RegisterTaskOptions, type Worker } from './client/absurd.ts';
import { Absurd as AbsurdClient } from './client/absurd.ts';
import { getCurrentTask as currentTaskOfContext, type CurrentTask as TaskOfContext } from './client/current-task.ts';

/** The Absurd task whose handler is running, with the client that runs it. */
export type CurrentTask = Omit<TaskOfContext, 'absurd'> & { readonly absurd: AbsurdClient };

/**
 * The task whose handler is running in this async context, if any.
 *
 * @example
 * ```ts
 * const task = getCurrentTask();
 * if (task) console.log(`attempt ${task.attempt} of task ${task.taskID}`);
 * ```
 */
export const getCurrentTask = currentTaskOfContext as () => CurrentTask | undefined;

export {
  AbsurdAgent,
  absurdModelMiddleware,
  durableModelMiddleware,
  describeCheckpoint,
  durableModel,
  durableTool,
  durableTools,
  isDurableModel,
  type AbsurdAgentSettings,
  type AbsurdAgentStreamParameters,
  type CheckpointDescription,
  type DurableAgentOptions,
  type DurableCallOptions,
  type DurableModelOptions,
  type DurableToolOptions,
  type McpToolListingCheckpoint,
  type MCPToolListingCheckpoint,
  type ModelCallCheckpoint,
  type ReplayDivergencePolicy,
  type ToolCallCheckpoint,
} from './agent/index.ts';
export { durableMCPClient, type DurableMCPClient, type DurableMCPClientOptions, type MCPClientConnection } from './agent/durable-mcp-client.ts';

export type { ApproveToolCallOptions, PendingApproval, ToolApprovalDecision } from './approvals/tool-approval.ts';

export {
  checkpointCodecVersion,
  decodeCheckpoint,
  defaultMaxCheckpointBytes,
  encodeCheckpoint,
} from './codec/checkpoint-codec.ts';

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
  type ClaimedTask,
  type JsonObject,
  type JsonValue,
  type SpawnOptions,
  type SpawnResult,
  type TaskHandler,
  type TaskResultSnapshot,
  type WorkerOptions,
} from 'absurd-sdk';
export { appendStreamChunk } from './streams/append-stream-chunk.ts';
export { type DurableStreamOptions, type DurableStreamSetting } from './streams/publish-agent-stream.ts';
export { readStream, type ReadStreamOptions } from './streams/read-stream.ts';
export { discardSupersededChunks, supersededChunkType } from './streams/superseded-marker.ts';
export { type StreamResponseOptions } from './streams/stream-response.ts';
export * from './tools/index.ts';
export { startDashboard, type DashboardOptions, type RunningDashboard } from './dashboard/start-dashboard.ts';
export { readUsage, type ModelPrice, type UsageOptions, type UsageReport, type UsageTotals } from './usage/usage-report.ts';
export type { AgentBudget } from './usage/agent-budget.ts';
export type { TaskBudget } from './usage/task-budget.ts';
export { type ForkTaskOptions, type ForkTaskResult, type ForkOrigin } from './client/fork-task.ts';
export { type TaskHandle, type TypedTaskResult } from './client/task-handle.ts';
export { markPermanent, permanentFailureReason } from './client/permanent-failure.ts';
export { defaultRetryStrategy } from './client/retry-defaults.ts';
export type { PostgresClient, PostgresPool } from './db/postgres-pool.ts';
export { versionedQueueName, taskVersion, taskVersionHeader } from './client/task-version.ts';
