// The demo: the tutorial's `analyse` task run end to end on an embedded database, with a crash in the middle.
// A worker process is killed with SIGKILL while a model call is in flight; a second worker process resumes the
// task from its checkpoints. The demo then prints the result and the evidence.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Absurd } from '../client/absurd.ts';
import { redactUrl } from '../db/redact-url.ts';
import { readTaskTimeline } from '../history/task-history.ts';
import type { DemoEvent } from './demo-events.ts';
import { collectDemoChecks } from './demo-evidence.ts';
import { chooseDemoModelKind, describeDemoModel, loadOpenAIProvider, type DemoModelChoice } from './demo-model.ts';
import { startDemoWorkerProcess, type DemoWorkerProcess } from './demo-worker-process.ts';
import type { AnalyseResult, DemoWorkerConfig } from './demo-worker.ts';
import { startScriptedModelServer, type ScriptedModelServer } from './scripted-model-server.ts';

export interface DemoOptions {
  /** Database URL; defaults to a fresh embedded PGlite directory. */
  readonly db?: string;
  readonly queue?: string;
  /** Keep the temporary directory (database and notes file) for inspection. */
  readonly keep?: boolean;
  /** Use the scripted model even when a provider key is set. */
  readonly scripted?: boolean;
  /** Model id for a real provider. */
  readonly model?: string;
  readonly question?: string;
  /** Worker lease in seconds: how long the second worker waits before it may take over. */
  readonly claimTimeout?: number;
  /** Where progress goes (default: stdout). */
  readonly print?: (line: string) => void;
  /** How the commands printed at the end are invoked, e.g. `npx ai-sdk-absurd`. */
  readonly commandName?: string;
}

export interface DemoOutcome {
  readonly taskID: string;
  readonly databaseUrl: string;
  readonly report: string;
  readonly passed: boolean;
}

const defaultQuestion = 'How did our revenue change from Q1 to Q2? Save a note for the finance team.';

type ModelCallStarted = Extract<DemoEvent, { type: 'model-call-started' }>;
type AttemptStarted = Extract<DemoEvent, { type: 'attempt-started' }>;
type TaskFinished = Extract<DemoEvent, { type: 'task-finished' }>;

export async function runDemo(options: DemoOptions = {}): Promise<DemoOutcome> {
  const print = options.print ?? ((line: string) => console.log(line));
  const started = performance.now();
  const stamp = () => `[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s]`;
  const say = (line: string) => print(`${stamp()} ${line}`);
  const phases: Array<[string, number]> = [];
  let phaseStart = performance.now();
  const endPhase = (name: string) => {
    phases.push([name, performance.now() - phaseStart]);
    phaseStart = performance.now();
  };

  const directory = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-demo-'));
  const databaseUrl = options.db ?? `pglite:${join(directory, 'database')}`;
  const notesFile = join(directory, 'notes.txt');
  const queueName = options.queue ?? 'demo';
  const picked = chooseDemoModelKind(process.env, { scripted: options.scripted, modelId: options.model });
  const claimTimeout = options.claimTimeout ?? (picked.kind === 'scripted' ? 3 : 10);
  let server: ScriptedModelServer | undefined;
  let keepFiles = Boolean(options.keep);
  const workers: DemoWorkerProcess[] = [];

  print('ai-sdk-absurd demo: a durable agent survives a crash');
  print(`  model:    ${describeDemoModel(picked)}`);
  const where = databaseUrl.startsWith('pglite:')
    ? `embedded PGlite in ${databaseUrl.slice('pglite:'.length)} (no server needed)`
    : redactUrl(databaseUrl);
  print(`  database: ${where}`);
  print('');

  try {
    // Checked here, so that a missing provider is reported before any worker starts.
    if (picked.kind !== 'gateway') await loadOpenAIProvider();
    let model: DemoModelChoice;
    if (picked.kind === 'scripted') {
      server = await startScriptedModelServer();
      model = { kind: 'scripted', modelId: picked.modelId, baseURL: server.baseURL };
    } else {
      model = { kind: picked.kind, modelId: picked.modelId };
    }

    // 1. Setup: this process owns the database only until the task is spawned; an embedded database allows
    //    one process at a time, and the workers are separate processes.
    say(`1. Setup${databaseUrl.startsWith('pglite:') ? ': creating the embedded database (a few seconds the first time)' : ''}`);
    const question = options.question ?? defaultQuestion;
    const setup = new Absurd({ db: databaseUrl, queueName, migrate: true });
    let taskID: string;
    try {
      await setup.createQueue();
      ({ taskID } = await setup.spawn('analyse', { question }, { queue: queueName, maxAttempts: 3 }));
    } finally {
      await setup.close();
    }
    say(`   queue "${queueName}" created; spawned task "analyse" ${taskID}`);
    say(`   question: "${question}"`);
    endPhase('setup');

    const config: DemoWorkerConfig = { databaseUrl, queueName, taskID, claimTimeout, model, notesFile };
    let answeredByFirst = 0;

    // 2. The first worker runs until its second model call is in flight, then dies without warning.
    print('');
    say('2. Worker 1 starts');
    let killedAt = 0;
    const first = startDemoWorkerProcess(config, (event) => {
      describeEvent(event, 0, say);
      if (event.type === 'model-call-finished') answeredByFirst += 1;
      if (event.type === 'model-call-started' && event.call === 2 && killedAt === 0) {
        first.kill('SIGKILL');
        killedAt = performance.now();
        say(`   >>> model call 2 is in flight: killed worker 1 (pid ${first.pid}) with SIGKILL <<<`);
      }
    });
    workers.push(first);
    say(`   worker 1 is process ${first.pid}`);
    await first.waitForEvent(
      (event): event is ModelCallStarted => event.type === 'model-call-started' && event.call === 2,
      120_000,
      'its second model call (the moment the demo kills it)',
    );
    await first.exited;
    endPhase('worker 1, until killed');

    // 3. A new worker process takes over once the dead worker's lease runs out, and resumes from the checkpoints.
    print('');
    say(`3. Worker 2 starts; it can claim the task once worker 1's lease (claimTimeout ${claimTimeout} s) runs out`);
    const second = startDemoWorkerProcess(config, (event) => describeEvent(event, answeredByFirst, say));
    workers.push(second);
    say(`   worker 2 is process ${second.pid}`);
    await second.waitForEvent(
      (event): event is AttemptStarted => event.type === 'attempt-started',
      (claimTimeout + 60) * 1000,
      'it resumed the task',
    );
    endPhase('waiting for the lease to expire');
    const finished = await second.waitForEvent(
      (event): event is TaskFinished => event.type === 'task-finished',
      300_000,
      'the task finished',
    );
    const exit = await second.exited;
    if (exit.code !== 0) throw new Error(`Worker 2 exited with code ${exit.code} after the task ended "${finished.state}".\n${second.stderr()}`);
    endPhase('worker 2, resume to result');

    // 4. The result and the evidence, read from the database now that no worker holds it.
    print('');
    say('4. Result');
    const reader = new Absurd({ db: databaseUrl, queueName });
    let report = '';
    let passed = false;
    try {
      const snapshot = await reader.fetchTaskResult(taskID);
      const timeline = await readTaskTimeline(reader.database, taskID, { queue: queueName });
      if (!timeline) throw new Error(`Task ${taskID} is missing from queue "${queueName}".`);
      if (snapshot?.state === 'completed') report = (snapshot.result as unknown as AnalyseResult).report;
      else throw new Error(`The task ended "${snapshot?.state ?? 'unknown'}": ${JSON.stringify(snapshot)}`);
      for (const line of report.split('\n')) print(`   ${line}`);
      const noteLines = (await readFile(notesFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
      const checks = collectDemoChecks({
        firstWorker: first.events,
        secondWorker: second.events,
        timeline,
        noteLines,
        server: server && {
          answered: server.requests.filter((entry) => entry.outcome === 'completed').length,
          repeated: server.repeatedRequests().length,
        },
      });
      print('');
      print('Evidence');
      for (const check of checks) print(`   ${check.passed ? '✓' : '✗'} ${check.text}`);
      passed = checks.every((check) => check.passed);
    } finally {
      await reader.close();
    }
    endPhase('reading the result');

    print('');
    print('Time per phase');
    for (const [name, milliseconds] of phases) print(`   ${name.padEnd(34)} ${(milliseconds / 1000).toFixed(1)} s`);
    print(`   ${'total'.padEnd(34)} ${((performance.now() - started) / 1000).toFixed(1)} s`);
    print('');
    const command = options.commandName ?? 'npx ai-sdk-absurd';
    if (!passed) {
      keepFiles = true;
      throw new Error(`The demo's checks failed (see ✗ above). Its files are kept in ${directory} for inspection.`);
    }
    if (keepFiles) {
      print(`Kept ${directory}. Look at the run with:`);
      print(`   ${command} runs --db ${databaseUrl}`);
      print(`   ${command} show ${taskID} --db ${databaseUrl}`);
    } else {
      print(`See each step of a run with \`${command} show <task id> --db <url>\` (run the demo with --keep to keep its database).`);
    }
    return { taskID, databaseUrl, report, passed };
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    await server?.close();
    if (!keepFiles) await rm(directory, { recursive: true, force: true });
  }
}

/** One line of progress per live event; `earlierCalls` numbers model calls across workers. */
function describeEvent(event: DemoEvent, earlierCalls: number, say: (line: string) => void): void {
  switch (event.type) {
    case 'attempt-started':
      say(
        event.attempt === 1
          ? `   claimed the task: attempt 1`
          : `   claimed the task: attempt ${event.attempt}, which replays the checkpoints attempt 1 left behind`,
      );
      return;
    case 'model-call-started':
      say(`   model call ${earlierCalls + event.call}: asking the model…`);
      return;
    case 'model-call-finished': {
      const tokens = `${event.inputTokens ?? '?'} in / ${event.outputTokens ?? '?'} out tokens`;
      const answer = event.toolCalls.length > 0 ? `asks for ${event.toolCalls.join(', ')}` : `answers "${shorten(event.text, 90)}"`;
      say(`   model call ${earlierCalls + event.call} answered in ${(event.durationMs / 1000).toFixed(1)} s (${tokens}): ${answer}`);
      return;
    }
    case 'tool-finished':
      say(`   tool ${event.toolName} ran: ${shorten(JSON.stringify(event.output), 90)}`);
      return;
    case 'step-finished':
      const tools = event.toolCalls.length > 0;
      say(
        event.live
          ? `   step ${event.stepNumber + 1} done; its model call${tools ? ' and tool calls are checkpoints' : ' is a checkpoint'} now`
          : `   step ${event.stepNumber + 1} replayed from checkpoints: no model call, ${tools ? 'no tool run' : 'nothing redone'}`,
      );
      return;
    case 'worker-error':
      say(`   worker error: ${event.message}`);
      return;
    default:
      return;
  }
}

function shorten(text: string, length: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}
