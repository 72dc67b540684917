// A demo worker process: registers the tutorial's `analyse` task with the analyst agent, works the queue until
// the demo's task has ended, and reports its live work on stdout. The demo starts it twice and kills the first.
import { setTimeout as delay } from 'node:timers/promises';
import { Absurd } from '../client/absurd.ts';
import { getCurrentTask } from '../client/current-task.ts';
import { createDemoAnalyst, liveToolRuns } from './demo-analyst.ts';
import { emitDemoEvent } from './demo-events.ts';
import { createDemoModel, liveModelCalls, type DemoModelChoice } from './demo-model.ts';

export interface DemoWorkerConfig {
  readonly databaseUrl: string;
  readonly queueName: string;
  readonly taskID: string;
  readonly claimTimeout: number;
  readonly model: DemoModelChoice;
  readonly notesFile: string;
}

export interface AnalyseParams {
  readonly question: string;
}

export interface AnalyseResult {
  readonly report: string;
  readonly steps: number;
}

async function runWorker(config: DemoWorkerConfig): Promise<void> {
  emitDemoEvent({ type: 'worker-ready', pid: process.pid });
  const absurd = new Absurd({ db: config.databaseUrl, queueName: config.queueName });
  const analyst = createDemoAnalyst({ absurd, model: await createDemoModel(config.model), notesFile: config.notesFile });

  absurd.registerTask({ name: 'analyse' }, async (params: AnalyseParams): Promise<AnalyseResult> => {
    const task = getCurrentTask();
    if (task) emitDemoEvent({ type: 'attempt-started', taskID: task.taskID, runID: task.runID, attempt: task.attempt });
    const liveWork = () => liveModelCalls() + liveToolRuns();
    let liveWorkBefore = liveWork();
    const result = await analyst.generate({
      prompt: params.question,
      onStepEnd: (step) => {
        const live = liveWork() > liveWorkBefore;
        liveWorkBefore = liveWork();
        emitDemoEvent({
          type: 'step-finished',
          stepNumber: step.stepNumber,
          live,
          toolCalls: step.toolCalls.map((call) => call.toolName),
        });
      },
    });
    return { report: result.text, steps: result.steps.length };
  });

  const worker = await absurd.startWorker({
    claimTimeout: config.claimTimeout,
    concurrency: 1,
    pollInterval: 0.2,
    onError: (error) => emitDemoEvent({ type: 'worker-error', message: error.message }),
  });
  for (;;) {
    const snapshot = await absurd.fetchTaskResult(config.taskID);
    if (snapshot && ['completed', 'failed', 'cancelled'].includes(snapshot.state)) {
      emitDemoEvent({ type: 'task-finished', state: snapshot.state });
      break;
    }
    await delay(200);
  }
  await worker.close();
  await absurd.close();
}

const config = JSON.parse(process.argv[2] ?? '{}') as DemoWorkerConfig;
try {
  await runWorker(config);
} catch (error) {
  emitDemoEvent({ type: 'worker-error', message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
}
