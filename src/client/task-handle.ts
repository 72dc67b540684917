// A typed handle of one task: spawn it with the params its handler takes and read its result as the type
// the handler returns. A worker gets it from `registerTask`; a web process that does not run the task gets
// it from `absurd.task<Params, Result>({ name })`, with the types shared, not the handler.
import type { SpawnOptions, SpawnResult, TaskResultSnapshot } from 'absurd-sdk';

/** A task's result snapshot with the result typed. */
export type TypedTaskResult<R> =
  | { readonly state: 'pending' | 'running' | 'sleeping' }
  | { readonly state: 'completed'; readonly result: R }
  | { readonly state: 'failed'; readonly failure: unknown }
  | { readonly state: 'cancelled' };

export interface TaskHandle<P, R> {
  readonly name: string;
  /** The queue the task runs on. */
  readonly queue: string;
  /** The version of the task's code that spawns record, when the handle has one (docs/deploy.md). */
  readonly version?: string;
  /** Spawns the task; `options.queue` defaults to the task's queue. */
  spawn(params: P, options?: SpawnOptions): Promise<SpawnResult>;
  /** The current state of a task spawned from this handle, or null when no such task exists. */
  fetchResult(taskID: string): Promise<TypedTaskResult<R> | null>;
  /** Waits until the task completes, fails or is cancelled (`timeout` in seconds). */
  awaitResult(taskID: string, options?: { readonly timeout?: number }): Promise<TypedTaskResult<R>>;
}

/** What a handle needs of the client. */
export interface TaskHandleClient {
  spawn(taskName: string, params: unknown, options?: SpawnOptions & { version?: string }): Promise<SpawnResult>;
  fetchTaskResult(taskID: string, options?: { queue?: string }): Promise<TaskResultSnapshot | null>;
  awaitTaskResult(taskID: string, options?: { queue?: string; timeout?: number }): Promise<TaskResultSnapshot>;
}

export function createTaskHandle<P, R>(client: TaskHandleClient, name: string, queue: string, version?: string): TaskHandle<P, R> {
  return {
    name,
    queue,
    ...(version === undefined ? {} : { version }),
    spawn: (params, options) =>
      client.spawn(name, params, { ...options, queue: options?.queue ?? queue, ...(version === undefined ? {} : { version }) }),
    fetchResult: async (taskID) => (await client.fetchTaskResult(taskID, { queue })) as TypedTaskResult<R> | null,
    awaitResult: async (taskID, options) =>
      (await client.awaitTaskResult(taskID, { queue, ...(options?.timeout === undefined ? {} : { timeout: options.timeout }) })) as TypedTaskResult<R>,
  };
}
