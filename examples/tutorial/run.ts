import { absurd } from './analyst.ts';
import './analyse-task.ts';

await absurd.createQueue();
const { taskID, created } = await absurd.spawn(
  'analyse',
  { question: 'How did revenue change from Q1 to Q2? Save a note for the finance team.' },
  { idempotencyKey: 'revenue-q1-q2' },
);
console.log(`${created ? 'Spawned' : 'Found'} task ${taskID}`);

// A short lease: if this process dies, the next worker may take the task over after 10 seconds.
const worker = await absurd.startWorker({ claimTimeout: 10 });
const result = await absurd.awaitTaskResult(taskID, { timeout: 300 });
console.log(result);

await worker.close();
await absurd.close();
