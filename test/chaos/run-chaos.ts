// Runs the chaos scenario and reports what it finds: agent tasks drained by worker processes that a
// killer SIGKILLs at random moments and restarts, optionally with something done to the database mid-load.
// Afterwards it checks every promise of durable execution against what the model server, the effects
// file and the database recorded, and lists each violation it finds.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createOpenAI } from '@ai-sdk/openai';
import { Absurd } from '../../src/client/absurd.ts';
import { analystScenario } from '../support/analyst-scenario.ts';
import type { ModelConversation } from '../support/model-conversation.ts';
import { startOpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { openChaosDatabase } from './chaos-database.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { chaosTaskParams, expectedChaosText, type ToolSideEffect } from './chaos-scenario.ts';
import type { ChaosWorkerOptions } from './chaos-worker.ts';
import { analyseChaos, findViolations, type ChaosFindings, type StoredCheckpoint, type StoredTask } from './chaos-findings.ts';

export interface ChaosOptions {
  readonly tasks: number;
  /** Worker processes at once on Postgres (an embedded database allows one). Default 3. */
  readonly workers?: number;
  /** Tasks each worker runs at once. Default 4. */
  readonly concurrency?: number;
  /** Lease in seconds. Default 3. */
  readonly claimTimeout?: number;
  /** Kill workers at random moments (default true). */
  readonly kill?: boolean;
  /** Milliseconds between kills, drawn uniformly from this range. Default [200, 1000]. */
  readonly killEveryMs?: readonly [number, number];
  /** Stop killing after this many kills (default: no limit). */
  readonly maxKills?: number;
  /**
   * Run once when this fraction of the tasks has finished (Postgres only), e.g. restart the server. Tool
   * calls whose checkpoint could not be written meanwhile may run again; they are counted, not violations.
   */
  readonly midLoad?: { readonly atFraction: number; readonly action: () => Promise<void> };
  /** Put some tasks' recordNote behind an approval. Default: when the client has approveToolCall. */
  readonly approvals?: boolean;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosReport extends ChaosFindings {
  readonly backend: 'postgres' | 'pglite';
  readonly seconds: number;
  readonly kills: number;
  readonly workerStarts: number;
  /** Approvals given, or undefined when the client has no approveToolCall yet. */
  readonly approvals: number | undefined;
  readonly violations: string[];
}

const workerScript = new URL('./chaos-worker.ts', import.meta.url);

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const startedAt = performance.now();
  const database = await openChaosDatabase();
  const scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-chaos-'));
  const effectsFile = join(scratch, 'effects.jsonl');
  const arrivals: number[] = [];
  const script = analystScenario();
  const model = await startOpenAICompatibleServer({
    // Arrival times, index-aligned with `model.requests`: the server records a request right after asking the script.
    script: (conversation: ModelConversation) => {
      arrivals.push(Date.now());
      return script(conversation);
    },
    // A quarter of the answers are slow, so kills also land while a model call is in flight.
    faults: [{ kind: 'delay', ms: 25, times: Number.MAX_SAFE_INTEGER, match: () => Math.random() < 0.25 }],
  });
  const reference = await startOpenAICompatibleServer();
  const live = new Set<WorkerProcess>();
  const started: WorkerProcess[] = [];
  const killedPids = new Set<number>();
  let workerStarts = 0;
  const disruptions: Array<{ from: number; to: number }> = [];
  try {
    const queue = `chaos_${randomBytes(4).toString('hex')}`;
    const client = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
    const approvalsSupported = options.approvals ?? typeof (client as unknown as Record<string, unknown>).approveToolCall === 'function';
    const params = Array.from({ length: options.tasks }, (_, index) => chaosTaskParams(index, approvalsSupported));
    const referenceModel = createOpenAI({ baseURL: reference.baseURL, apiKey: 'reference' }).chat('gpt-analyst');
    const expected = new Map<string, string>();
    for (const task of params) expected.set(task.prompt, await expectedChaosText(referenceModel, task));

    await client.createQueue();
    const taskIDs: string[] = [];
    for (const task of params) {
      const { taskID } = await client.spawn('chaos-agent', task, { queue, maxAttempts: 1_000, retryStrategy: { kind: 'none' } });
      taskIDs.push(taskID);
    }
    log(`spawned ${taskIDs.length} tasks on ${database.kind}`);
    if (database.kind === 'pglite') {
      // One process at a time may open the directory: hand it to the workers.
      await client.close();
    }

    const workerOptions: ChaosWorkerOptions = {
      url: database.url,
      queue,
      modelBaseURL: model.baseURL,
      effectsFile,
      claimTimeout: options.claimTimeout ?? 3,
      concurrency: options.concurrency ?? 4,
      exitWhenDrained: database.kind === 'pglite',
      // Only the worker can open an embedded database, so there it gives the approvals itself.
      approveInProcess: approvalsSupported && database.kind === 'pglite',
    };
    const startWorker = async () => {
      const worker = startWorkerProcess(workerScript, { options: workerOptions });
      workerStarts += 1;
      started.push(worker);
      live.add(worker);
      void worker.exited.then(() => live.delete(worker));
      await worker.waitForSignal('ready', { timeoutMs: 60_000 });
      return worker;
    };
    const workerCount = database.kind === 'pglite' ? 1 : (options.workers ?? 3);
    await startWorker();
    // The others start while the first already works and the killer already runs, so kills land
    // while there is work to lose even when the whole load drains in a second or two.
    const startingOthers = Promise.all(Array.from({ length: workerCount - 1 }, () => startWorker().catch(() => undefined)));

    let done = false;
    let approvals = 0;
    const deadline = Date.now() + (options.timeoutMs ?? 180_000);
    const killer = (async () => {
      if (options.kill === false) return;
      const [low, high] = options.killEveryMs ?? [200, 1_000];
      while (!done && Date.now() < deadline && killedPids.size < (options.maxKills ?? Number.POSITIVE_INFINITY)) {
        await delay(low + Math.random() * (high - low));
        const candidates = [...live];
        if (done || candidates.length === 0) continue;
        const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
        killedPids.add(victim.pid);
        await victim.kill();
        log(`killed worker ${victim.pid}`);
        if (!done) await startWorker();
      }
    })();

    if (database.kind === 'pglite') {
      // The worker exits by itself once nothing is left; a killed one is replaced by the killer.
      while (Date.now() < deadline) {
        if (started.some((worker) => worker.signals.some((signal) => signal.signal === 'drained'))) break;
        if (live.size === 0 && options.kill === false) await startWorker();
        await delay(100);
      }
    } else {
      let midLoadDone = options.midLoad === undefined;
      while (Date.now() < deadline) {
        const { rows } = await client.database.query<{ unfinished: number; finished: number }>(
          `select count(*) filter (where state in ('pending', 'running', 'sleeping'))::int as unfinished,
                  count(*) filter (where state not in ('pending', 'running', 'sleeping'))::int as finished
             from absurd."t_${queue}"`,
        ).catch(() => ({ rows: [] as Array<{ unfinished: number; finished: number }> }));
        const progress = rows[0];
        if (progress && progress.unfinished === 0) break;
        if (!midLoadDone && progress && progress.finished >= options.tasks * options.midLoad!.atFraction) {
          midLoadDone = true;
          log(`mid-load action at ${progress.finished}/${options.tasks} finished tasks`);
          const from = Date.now();
          await options.midLoad!.action();
          disruptions.push({ from, to: Date.now() });
        }
        if (approvalsSupported) approvals += await approvePending(client);
        await delay(100);
      }
    }
    done = true;
    await killer;
    await startingOthers;
    for (const worker of [...live]) await worker.kill();
    const output = [...live].map((worker) => worker.output()).join('');

    const verifier = database.kind === 'pglite' ? new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue }) : client;
    try {
      const tasks = await verifier.database.query<StoredTask>(
        `select task_id::text as task_id, state, completed_payload from absurd."t_${queue}"`,
      );
      const checkpoints = await verifier.database.query<StoredCheckpoint>(
        `select state::text as state, extract(epoch from updated_at) * 1000 as written_at
           from absurd."c_${queue}" where status = 'committed'`,
      );
      const findings = analyseChaos({
        tasks: tasks.rows,
        checkpoints: checkpoints.rows,
        taskIDs,
        params,
        expected,
        effects: await readEffects(effectsFile),
        killedPids,
        disruptions,
        requests: model.requests.map((request, index) => ({
          arrivedAt: arrivals[index] ?? Number.NaN,
          completed: request.outcome === 'completed',
          responseId: request.reply?.responseId,
          key: `${request.api}\n${request.conversation.messagesKey}`,
        })),
      });
      const report: ChaosReport = {
        backend: database.kind,
        seconds: Math.round((performance.now() - startedAt) / 100) / 10,
        kills: killedPids.size,
        workerStarts,
        approvals: approvalsSupported
          ? approvals + started.reduce((total, worker) => total + worker.signals.filter((signal) => signal.signal === 'approved').length, 0)
          : undefined,
        ...findings,
        violations: findViolations(findings),
      };
      if (report.violations.length > 0 && output) log(output);
      return report;
    } finally {
      await verifier.close();
    }
  } finally {
    for (const worker of [...live]) await worker.kill();
    await model.close();
    await reference.close();
    await database.remove();
    await rm(scratch, { recursive: true, force: true });
  }
}

async function approvePending(client: Absurd): Promise<number> {
  const approver = client as unknown as {
    listPendingApprovals(filter?: object): Promise<Array<{ taskID: string; toolCallId: string }>>;
    approveToolCall(options: { taskID: string; toolCallId: string; approved: boolean; reason?: string }): Promise<unknown>;
  };
  let approved = 0;
  for (const pending of await approver.listPendingApprovals({}).catch(() => [])) {
    try {
      await approver.approveToolCall({ taskID: pending.taskID, toolCallId: pending.toolCallId, approved: true, reason: 'chaos' });
      approved += 1;
    } catch {
      // Decided already (by an earlier pass) or the database is restarting: the next pass tries again.
    }
  }
  return approved;
}

async function readEffects(file: string): Promise<ToolSideEffect[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ToolSideEffect);
}
