// Human approval with real processes: a worker process runs an agent whose second step needs approval;
// the task suspends and the worker goes idle holding no claim; the worker is killed; another process
// decides through the CLI; a fresh worker resumes and completes. The tool's side effect happens at most
// once and no checkpointed model request is asked again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import type { ApprovalWorkerOptions } from '../fixtures/approval-worker.ts';
import { crashBackends, createSharedDatabase, type CrashBackend } from '../support/crash-databases.ts';
import { startOpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';

const run = promisify(execFile);
const approvalWorker = new URL('../fixtures/approval-worker.ts', import.meta.url);
const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const { backends, postgresSkipReason } = await crashBackends();

type Decision = 'approve' | 'deny' | 'timeout';

for (const backend of ['pglite', 'postgres'] as CrashBackend[]) {
  describe(`tool approval across processes on ${backend}`, { skip: !backends.includes(backend) && postgresSkipReason }, () => {
    for (const decision of ['approve', 'deny', 'timeout'] as Decision[]) {
      test(`${decision}: the task suspends, the worker is freed, and a fresh worker finishes the run`, async () => {
        await approvalScenario(backend, decision);
      });
    }
  });
}

async function approvalScenario(backend: CrashBackend, decision: Decision): Promise<void> {
  const database = await createSharedDatabase(backend);
  const server = await startOpenAICompatibleServer();
  const scratch = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-approval-'));
  const effectsFile = join(scratch, 'effects.jsonl');
  const queue = uniqueQueueName('approvals');
  // Killed in `finally` as well: a test that fails before its kill must not leave a worker that keeps the file running.
  const workers: WorkerProcess[] = [];
  try {
    const taskID = await withClient(database.url, queue, async (absurd) => {
      await absurd.createQueue();
      const { taskID } = await absurd.spawn('analyse', { prompt: 'Revenue for Q2, please.' }, { queue });
      return taskID;
    });
    const workerOptions: ApprovalWorkerOptions = {
      url: database.url,
      queue,
      taskID,
      modelBaseURL: server.baseURL,
      effectsFile,
      claimTimeout: 2,
      approvalTimeout: decision === 'timeout' ? 1 : undefined,
    };

    // The first worker claims nothing after the task suspended: a timed-out approval (1 s) cannot resume the
    // run in the process about to be killed, so no model request is in flight when the kill lands.
    const first = startWorkerProcess(approvalWorker, { options: { ...workerOptions, claimOnce: true } });
    workers.push(first);
    const suspended = await first.waitForSignal('suspended', { timeoutMs: 60_000 });
    assert.equal(suspended.toolName, 'recordNote');
    const toolCallId = String(suspended.toolCallId);
    const requestsBeforeDecision = server.completedRequests().length;
    await first.kill();

    await withClient(database.url, queue, async (absurd) => {
      const { rows } = await absurd.database.query(
        `select t.state as task_state, r.state as run_state, r.claimed_by, r.claim_expires_at
         from absurd.${quote(`t_${queue}`)} t join absurd.${quote(`r_${queue}`)} r on r.run_id = t.last_attempt_run
         where t.task_id = $1`,
        [taskID],
      );
      assert.equal(rows[0].task_state, 'sleeping');
      assert.equal(rows[0].run_state, 'sleeping');
      assert.equal(rows[0].claimed_by, null, 'a suspended task holds no claim');
      assert.equal(rows[0].claim_expires_at, null);
      const pending = await absurd.listPendingApprovals({ taskID });
      assert.deepEqual(
        pending.map((approval) => [approval.toolCallId, approval.toolName]),
        [[toolCallId, 'recordNote']],
      );
      assert.equal(typeof (pending[0]!.input as { text: string }).text, 'string');
    });

    if (decision !== 'timeout') {
      const args = [cli, decision, taskID, toolCallId, '--db', database.url];
      if (decision === 'deny') args.push('--reason', 'notes are frozen this week');
      const { stdout } = await run(process.execPath, args);
      assert.match(stdout, decision === 'approve' ? /Approved tool call/ : /Denied tool call .*notes are frozen/);
      // A second decision is refused with a clear message and a failing exit code.
      await assert.rejects(run(process.execPath, [cli, 'approve', taskID, toolCallId, '--db', database.url]), (error: any) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /already (approved|denied)/);
        return true;
      });
    } else {
      await new Promise((resolve) => setTimeout(resolve, 1_200));
    }

    const second = startWorkerProcess(approvalWorker, { options: workerOptions });
    workers.push(second);
    const finished = await second.waitForSignal('task-finished', { timeoutMs: 60_000 });
    assert.equal(finished.state, 'completed', second.output());
    await second.exited;

    const snapshot = await withClient(database.url, queue, (absurd) => absurd.fetchTaskResult(taskID));
    assert.equal(snapshot?.state, 'completed');
    const effects = (await readFile(effectsFile, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { toolName: string; toolCallId: string });
    const notes = effects.filter((effect) => effect.toolName === 'recordNote');
    assert.equal(notes.length, decision === 'approve' ? 1 : 0, 'an approved tool runs once; a denied one never');
    assert.equal(effects.filter((effect) => effect.toolName === 'getRevenue').length, 1);
    assert.deepEqual(server.repeatedRequests(), [], 'no checkpointed model request is asked again');
    // The model saw the decision the way the AI SDK presents it.
    const after = server.completedRequests().slice(requestsBeforeDecision);
    assert.equal(after.length, 1);
    const lastBody = JSON.stringify(after[0]!.body);
    if (decision === 'approve') assert.match(lastBody, /saved/);
    if (decision === 'deny') assert.match(lastBody, /notes are frozen this week/);
    if (decision === 'timeout') assert.match(lastBody, /timed out/);
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
    await server.close();
    await database.remove();
    await rm(scratch, { recursive: true, force: true });
  }
}

async function withClient<T>(url: string, queue: string, fn: (absurd: Absurd) => Promise<T>): Promise<T> {
  const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: url, queueName: queue });
  try {
    return await fn(absurd);
  } finally {
    await absurd.close();
  }
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
