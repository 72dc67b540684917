import { hostname } from 'node:os';
import {
  Absurd as SdkAbsurd,
  type AbsurdHooks,
  type AbsurdOptions as SdkAbsurdOptions,
  type ClaimedTask,
  type JsonValue,
  type RetryStrategy,
  type SpawnOptions,
  type SpawnResult,
  type TaskHandler,
  type WorkerOptions,
} from 'absurd-sdk';
import { decideToolCall, listPendingApprovals } from '../approvals/approval-store.ts';
import type { ApproveToolCallOptions, PendingApproval, ToolApprovalDecision } from '../approvals/tool-approval.ts';
import type { Database, Queryable } from '../db/database.ts';
import { openDatabase, type DatabaseSource } from '../db/open-database.ts';
import { schemaSetupFor, setUpSchema } from '../schema/schema-setup.ts';
import {
  getClaimedRun,
  getCurrentTask,
  recordedTaskFailure,
  runWithClaimedTask,
  runWithTaskContext,
} from './current-task.ts';
import { queryForClaimedRun, rememberClaimTime } from './claimed-run-queries.ts';
import { mapDatabaseError } from './map-database-error.ts';
import { validatePayload } from './validate-payload.ts';
import { validateClaimTimeout, validateQueueName } from './queue-name.ts';
import { validateName } from './task-name.ts';
import { validateTaskID } from './task-id.ts';
import { WakeSignal } from './wake-signal.ts';
import { forkTask, type ForkTaskOptions, type ForkTaskResult } from './fork-task.ts';
import { createTaskHandle, type TaskHandle } from './task-handle.ts';
import { endRetries, permanentFailureReason } from './permanent-failure.ts';
import { defaultRetryStrategy, validateRetryStrategy } from './retry-defaults.ts';
import { assertRunVersion, validateTaskVersion } from './task-version.ts';
import { readRegistration, withSpawnDefaults, type SpawnDefaults, type TaskRegistrationDefaults } from './spawn-defaults.ts';
import { setTaskBudget, taskBudgetPolicy, type TaskBudget } from '../usage/task-budget.ts';
import { readUsage, type UsageOptions, type UsageReport } from '../usage/usage-report.ts';
import type { UIMessageChunk } from 'ai';
import { readStream, type ReadStreamOptions } from '../streams/read-stream.ts';
import { streamResponse, type StreamResponseOptions } from '../streams/stream-response.ts';
import { flushTaskStream } from '../streams/append-stream-chunk.ts';

export interface AbsurdOptions extends Omit<SdkAbsurdOptions, 'db'> {
  /**
   * `postgres://…` URL, `pglite:./dir`, `pglite:memory`, a `pg.Pool` or a `PGlite` instance.
   * Defaults to `ABSURD_DATABASE_URL`, then `PGDATABASE`, as absurd-sdk does.
   */
  db?: DatabaseSource;
  /** Apply pending migrations on first use. Embedded PGlite databases are always migrated. */
  migrate?: boolean;
  /** Largest task params or event payload accepted, in bytes of JSON (default 8 MiB). */
  maxPayloadBytes?: number;
  /**
   * Where workers and stream readers LISTEN for wake-ups when `db` goes through a transaction-mode pooler
   * (PgBouncer): a direct `postgres://…` URL of the same database, or `false` to only poll. By default they
   * LISTEN on `db`; behind such a pooler that is detected, logged once, and they poll (docs/scaling.md).
   */
  listenDb?: string | false;
  /**
   * How long a failed attempt waits before the next, for tasks spawned without a `retryStrategy`:
   * exponential from 2 s, doubling, at most 5 minutes by default (`defaultRetryStrategy`). Failures that
   * no retry can fix fail the task at once whatever the strategy (docs/production.md).
   */
  defaultRetryStrategy?: RetryStrategy;
}

/** What `registerTask` takes: absurd-sdk's registration options, spawn defaults, a version and a budget. */
export interface RegisterTaskOptions extends TaskRegistrationDefaults {
  /**
   * A spend limit on every model call of the task: each agent in it, each attempt, each sub-agent child
   * below it; checked before every live model call (docs/usage-and-views.md#budgets).
   */
  budget?: TaskBudget;
}

export interface Worker {
  close(): Promise<void>;
}

/** The channel the schema notifies when a run becomes claimable now; the payload is the queue name. */
export const wakeupChannel = 'absurd_wakeup';

/**
 * The absurd-sdk client with what durable agents need on top: `pglite:` URLs, a schema check on
 * first use, the current task made visible to the agent layer, and workers that wake on NOTIFY.
 */
export class Absurd extends SdkAbsurd {
  /** The queue this client works on by default. */
  readonly queue: string;
  /** Raw access to the database this client uses. */
  readonly database: Database;
  private readonly ownsDatabase: boolean;
  private readonly maxPayloadBytes: number | undefined;
  private readonly readiness: Promise<void>;
  private readonly workers = new Set<Worker>();
  /** The `log` given in the options (absurd-sdk keeps its own copy private); console by default. */
  private readonly workerLog: NonNullable<SdkAbsurdOptions['log']>;
  private readonly defaultRetryStrategy: RetryStrategy;
  private readonly spawnDefaults = new Map<string, SpawnDefaults>();

  constructor(options: AbsurdOptions | string = {}) {
    const settings: AbsurdOptions = typeof options === 'string' ? { db: options } : options;
    const queue = validateQueueName(settings.queueName ?? 'default');
    const retryStrategy =
      settings.defaultRetryStrategy === undefined ? defaultRetryStrategy : validateRetryStrategy(settings.defaultRetryStrategy, 'defaultRetryStrategy');
    const { database, owned } = openDatabase(settings.db, { migrate: settings.migrate, listenDb: settings.listenDb, log: settings.log });
    const userHooks: AbsurdHooks = settings.hooks ?? {};
    let readiness: Promise<void> | undefined;
    const connection: Queryable = {
      async query(text, params) {
        await readiness;
        try {
          const claimedRun = getClaimedRun();
          if (claimedRun) return await queryForClaimedRun(claimedRun, database, text, params);
          return await database.query(text, params);
        } catch (error) {
          throw await mapDatabaseError(error, database);
        }
      },
    };
    super({
      ...settings,
      db: connection as unknown as SdkAbsurdOptions['db'],
      queueName: queue,
      hooks: {
        ...userHooks,
        wrapTaskExecution: (ctx, execute) =>
          runWithTaskContext(ctx, () => (userHooks.wrapTaskExecution ? userHooks.wrapTaskExecution(ctx, execute) : execute())),
      },
    });
    this.queue = queue;
    this.database = database;
    this.ownsDatabase = owned;
    this.maxPayloadBytes = settings.maxPayloadBytes;
    this.workerLog = settings.log ?? console;
    this.defaultRetryStrategy = retryStrategy;
    readiness = this.readiness = prepare(database, owned, settings.migrate);
    // Reported on first use; avoid an unhandled rejection before that.
    this.readiness.catch(() => {});
  }

  /** Resolves once the database is open and holds the schema this library needs. */
  async ready(): Promise<void> {
    await this.readiness;
  }

  /**
   * Registers a handler as absurd-sdk does. A durable run that failed inside the handler (a model
   * stream error, a cancelled task) fails the execution even when the handler returns normally, so a
   * task never completes with the partial output of a run that Absurd should retry. A result that
   * Postgres cannot store (a lone surrogate, a NUL character, NaN, a BigInt) fails the execution with
   * InvalidPayloadError; results have no size limit. With `version`, each spawn records it and a run
   * recorded by another version (not in `acceptVersions`) fails at once (docs/deploy.md).
   *
   * @example
   * ```ts
   * const analyse = absurd.registerTask({ name: 'analyse', version: 'v2' }, async (params: { prompt: string }) => ({ output: params.prompt }));
   * const { taskID } = await analyse.spawn({ prompt: 'Analyse Q3 revenue' });
   * ```
   */
  override registerTask<P = any, R = any>(options: RegisterTaskOptions, handler: TaskHandler<P, R>): TaskHandle<P, Awaited<R>> {
    validateName(options?.name, 'task');
    if (options.queue !== undefined) validateQueueName(options.queue);
    const { registration, defaults, versions } = readRegistration(options, this.queue);
    const budget = taskBudgetPolicy(options.budget);
    this.spawnDefaults.set(options.name, defaults);
    const handle = createTaskHandle<P, Awaited<R>>(this, options.name, defaults.queue, defaults.version);
    super.registerTask<P, R>(registration, async (params, ctx) => {
      let result: R;
      try {
        assertRunVersion(versions, ctx);
        const current = getCurrentTask();
        if (budget && current) setTaskBudget(current, budget);
        result = await handler(params, ctx);
      } catch (error) {
        await this.failPermanently(error);
        throw error;
      }
      const current = getCurrentTask();
      // A handler that returned without awaiting its stream still completes with the chunks stored.
      if (current) await flushTaskStream(current);
      const failure = current && recordedTaskFailure(current);
      if (failure) {
        await this.failPermanently(failure.error);
        throw failure.error;
      }
      // Checked here so that a result Postgres cannot store fails with a clear error, not a driver error in complete_run.
      validatePayload(result ?? null, { subject: `The result of task "${options.name}"`, maxBytes: Number.POSITIVE_INFINITY });
      return result;
    });
    return handle;
  }

  /** A handler error that no retry can fix ends the task's retries, with one line in the log saying why. */
  private async failPermanently(error: unknown): Promise<void> {
    const current = getCurrentTask();
    const reason = current ? permanentFailureReason(error) : undefined;
    if (!current || !reason) return;
    try {
      await endRetries(current);
    } catch {
      // The run may have lost its lease meanwhile; Absurd's own retry rules then apply.
      return;
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.workerLog.warn(`[ai-sdk-absurd] task ${current.taskID} ("${current.taskName}") failed on attempt ${current.attempt} without a retry (${reason}): ${message}`);
  }

  /**
   * A typed handle of a task registered elsewhere (a web process that spawns what a worker runs): share the
   * params and result types, not the handler.
   *
   * @example
   * ```ts
   * const analyse = absurd.task<{ prompt: string }, { output: string }>({ name: 'analyse' });
   * const { taskID } = await analyse.spawn({ prompt: 'Analyse Q3 revenue' });
   * const done = await analyse.awaitResult(taskID);
   * if (done.state === 'completed') console.log(done.result.output);
   * ```
   */
  task<P = any, R = any>(options: { readonly name: string; readonly queue?: string; readonly version?: string }): TaskHandle<P, R> {
    validateName(options?.name, 'task');
    const queue = options.queue === undefined ? this.queue : validateQueueName(options.queue);
    const version = options.version === undefined ? undefined : validateTaskVersion(options.version);
    return createTaskHandle<P, R>(this, options.name, queue, version);
  }

  /**
   * Spawns a new task that starts with the first checkpoints of `taskID` (replayed, not paid again) and
   * runs live from there; see docs/multi-agent.md.
   *
   * @example
   * ```ts
   * const fork = await absurd.forkTask(taskID, { fromCheckpoint: 3 });
   * ```
   */
  async forkTask(taskID: string, options: ForkTaskOptions): Promise<ForkTaskResult> {
    await this.ready();
    return forkTask(this.database, options?.queue ?? this.queue, taskID, options);
  }

  /**
   * Model calls and tokens per task, agent and model, and the tokens replays did not pay again; see
   * docs/usage-and-views.md.
   *
   * @example
   * ```ts
   * const { totals } = await absurd.usage({ since: new Date(Date.now() - 86_400_000) });
   * ```
   */
  async usage(options: UsageOptions = {}): Promise<UsageReport> {
    await this.ready();
    return readUsage(this.database, options);
  }

  /**
   * Spawns as absurd-sdk does; a spawn without `retryStrategy` gets the task's or the client's default
   * (exponential backoff), and a task registered with a `version` records it.
   */
  override async spawn<P = any>(taskName: string, params: P, options?: SpawnOptions & { version?: string }): Promise<SpawnResult> {
    validateName(taskName, 'task');
    if (options?.queue !== undefined) validateQueueName(options.queue);
    const spawnOptions = withSpawnDefaults(options, this.spawnDefaults.get(taskName), this.defaultRetryStrategy);
    validatePayload(params, { subject: `Params of task "${taskName}"`, maxBytes: this.maxPayloadBytes });
    return super.spawn(taskName, params, spawnOptions);
  }

  override async emitEvent(eventName: string, payload?: JsonValue, queueName?: string): Promise<void> {
    validateName(eventName, 'event');
    if (queueName !== undefined) validateQueueName(queueName);
    validatePayload(payload ?? null, { subject: `Payload of event "${eventName}"`, maxBytes: this.maxPayloadBytes });
    return super.emitEvent(eventName, payload, queueName);
  }

  override async fetchTaskResult(taskID: string, options?: Parameters<SdkAbsurd['fetchTaskResult']>[1]): ReturnType<SdkAbsurd['fetchTaskResult']> {
    validateTaskID(taskID);
    if (options?.queue !== undefined) validateQueueName(options.queue);
    return super.fetchTaskResult(taskID, options);
  }

  override async awaitTaskResult(taskID: string, options?: Parameters<SdkAbsurd['awaitTaskResult']>[1]): ReturnType<SdkAbsurd['awaitTaskResult']> {
    validateTaskID(taskID);
    if (options?.queue !== undefined) validateQueueName(options.queue);
    return super.awaitTaskResult(taskID, options);
  }

  override async cancelTask(taskID: string, queueName?: string): Promise<void> {
    validateTaskID(taskID);
    if (queueName !== undefined) validateQueueName(queueName);
    return super.cancelTask(taskID, queueName);
  }

  override async retryTask(taskID: string, options?: Parameters<SdkAbsurd['retryTask']>[1]): Promise<SpawnResult> {
    validateTaskID(taskID);
    if (options?.queue !== undefined) validateQueueName(options.queue);
    return super.retryTask(taskID, options);
  }

  override async createQueue(queueName?: string, options?: Parameters<SdkAbsurd['createQueue']>[1]): Promise<void> {
    validateQueueName(queueName ?? this.queue);
    return super.createQueue(queueName, options);
  }

  /**
   * Tool calls that wait for a person's decision, oldest first, across every queue unless `queue`
   * is given (task ids are unique across queues).
   */
  async listPendingApprovals(options: { taskID?: string; queue?: string } = {}): Promise<PendingApproval[]> {
    await this.ready();
    return listPendingApprovals(this.database, options);
  }

  /**
   * Approves or denies one waiting tool call and wakes its task. The first valid decision wins;
   * a second one, one for a call nobody waits on, or one bound to another input is refused.
   */
  async approveToolCall(options: ApproveToolCallOptions): Promise<ToolApprovalDecision> {
    await this.ready();
    return decideToolCall(this.database, options);
  }

  /** The task's durable UI message stream from `startIndex`: stored chunks, then live ones (docs/streaming.md). */
  readStream(taskID: string, options: ReadStreamOptions & { queue?: string } = {}): ReadableStream<UIMessageChunk> {
    validateTaskID(taskID);
    const queue = options.queue ?? this.queue;
    const source = this.ready().then(() => readStream(this.database, queue, taskID, options).getReader());
    return new ReadableStream<UIMessageChunk>({
      async pull(controller) {
        const { done, value } = await (await source).read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: async (reason) => (await source).cancel(reason),
    });
  }

  /** The task's durable UI message stream as an SSE `Response` for `useChat` (docs/streaming.md). */
  async streamResponse(taskID: string, options: StreamResponseOptions & { queue?: string } = {}): Promise<Response> {
    validateTaskID(taskID);
    await this.ready();
    return streamResponse(this.database, options.queue ?? this.queue, taskID, options);
  }

  /** Works one batch as absurd-sdk does, refusing a claim timeout the schema cannot take. */
  override async workBatch(workerId?: string, claimTimeout?: number, batchSize?: number): Promise<void> {
    validateClaimTimeout(claimTimeout);
    return super.workBatch(workerId, claimTimeout, batchSize);
  }

  /** Claims as absurd-sdk does, noting when each claim was sent: the start of the run's lease. */
  override async claimTasks(options?: Parameters<SdkAbsurd['claimTasks']>[0]): Promise<ClaimedTask[]> {
    validateClaimTimeout(options?.claimTimeout);
    const sentAt = performance.now();
    const tasks = await super.claimTasks(options);
    rememberClaimTime(tasks, sentAt);
    return tasks;
  }

  override async executeTask(
    task: ClaimedTask,
    claimTimeout: number,
    options?: { fatalOnLeaseTimeout?: boolean },
  ): Promise<void> {
    return runWithClaimedTask(this, task, claimTimeout, () => super.executeTask(task, claimTimeout, options));
  }

  /**
   * Starts a worker like absurd-sdk's, but an idle worker sleeps on a NOTIFY from the schema (an
   * in-process signal on PGlite) instead of only polling, so new work starts within milliseconds.
   * `pollInterval` remains as the fallback for sleeping runs that come due and for lost notifications.
   * Without `onError`, errors are reported through the client's `log` option (console by default).
   */
  override async startWorker(options: WorkerOptions = {}): Promise<Worker> {
    const {
      workerId = `${hostname() || 'host'}:${process.pid}`,
      claimTimeout = 120,
      concurrency = 1,
      batchSize,
      pollInterval = 0.25,
      onError = (error: Error) => this.workerLog.error('[ai-sdk-absurd] worker error:', error),
      fatalOnLeaseTimeout = true,
    } = options;
    validateClaimTimeout(claimTimeout);
    await this.ready();
    const wake = new WakeSignal();
    const stopListening = await this.database
      .listen(wakeupChannel, (payload) => {
        if (payload === '' || payload === this.queue) wake.notify();
      })
      .catch((error: Error) => {
        onError(error);
        return async () => {};
      });
    const executing = new Set<Promise<void>>();
    let running = true;

    const loop = (async () => {
      while (running) {
        try {
          const capacity = concurrency - executing.size;
          if (capacity <= 0) {
            await wake.wait(pollInterval * 1000);
            continue;
          }
          wake.clear();
          const tasks = await this.claimTasks({
            batchSize: Math.min(batchSize ?? concurrency, capacity),
            claimTimeout,
            workerId,
          });
          if (tasks.length === 0) {
            await wake.wait(pollInterval * 1000);
            continue;
          }
          for (const task of tasks) {
            const execution: Promise<void> = this.executeTask(task, claimTimeout, { fatalOnLeaseTimeout })
              .catch((error: Error) => onError(error))
              .finally(() => {
                executing.delete(execution);
                wake.notify();
              });
            executing.add(execution);
          }
        } catch (error) {
          onError(error as Error);
          await wake.wait(pollInterval * 1000);
        }
      }
      await Promise.allSettled(executing);
    })();

    const worker: Worker = {
      close: async () => {
        running = false;
        wake.notify();
        await loop;
        await stopListening();
        this.workers.delete(worker);
      },
    };
    this.workers.add(worker);
    return worker;
  }

  override async close(): Promise<void> {
    await Promise.all([...this.workers].map((worker) => worker.close()));
    await super.close();
    if (this.ownsDatabase) await this.database.close();
  }
}

/**
 * A database the client opened is set up as it opens (see openDatabase); one it was given is set up by
 * the same rule here, since the client's `migrate` option is its own.
 */
async function prepare(database: Database, owned: boolean, migrateOption: boolean | undefined): Promise<void> {
  await database.ready();
  if (!owned) await setUpSchema(database, schemaSetupFor(database.kind, migrateOption));
}
