// `npm run chaos`: agent tasks drained by worker processes that are SIGKILLed at random moments and
// restarted, then every durability promise checked. Runs on Postgres when TEST_DATABASE_URL is set
// (3 workers), otherwise on an embedded database (1 worker at a time).
//
//   npm run chaos                         small configuration (40 tasks)
//   npm run chaos -- --tasks 500          the large configuration
//   npm run chaos -- --tasks 100 --workers 3 --concurrency 8
//   npm run chaos -- --approvals off      no approval share (default: on where the client supports approvals)
import { runChaos } from './run-chaos.ts';

function readArguments(argv: string[]) {
  const values: { tasks: number; workers: number; concurrency: number; timeoutMs: number; approvals?: boolean } = {
    tasks: 40,
    workers: 3,
    concurrency: 4,
    timeoutMs: 0,
  };
  for (let index = 0; index < argv.length; index += 2) {
    const name = argv[index]?.replace(/^--/, '');
    if (name === 'approvals' && (argv[index + 1] === 'on' || argv[index + 1] === 'off')) {
      values.approvals = argv[index + 1] === 'on';
      continue;
    }
    const value = Number(argv[index + 1]);
    if (!name || !(name in values) || name === 'timeoutMs' || !Number.isInteger(value) || value <= 0) {
      throw new Error(`Unknown or invalid argument ${argv[index]} ${argv[index + 1] ?? ''}. Use --tasks N, --workers N, --concurrency N, --approvals on|off.`);
    }
    values[name as 'tasks' | 'workers' | 'concurrency'] = value;
  }
  // Roughly 25 tasks a second survive the killing on two cores; leave generous room.
  values.timeoutMs = Math.max(180_000, values.tasks * 1_500);
  return values;
}

const settings = readArguments(process.argv.slice(2));
const report = await runChaos({ ...settings, log: (line) => console.log(`[chaos] ${line}`) });
console.log(
  [
    `backend ${report.backend}: ${report.completed}/${report.tasks} tasks completed in ${report.seconds} s`,
    `workers killed ${report.kills} times (${report.workerStarts} worker processes started)`,
    `tool calls ${report.toolCalls}, executions ${report.toolExecutions}, repeated because a worker died inside the tool: ${report.cutInsideTool}` +
      (report.cutByDisruption > 0 ? `, because the database went away: ${report.cutByDisruption}` : ''),
    `model requests ${report.modelRequests}, answered again after a worker died before checkpointing: ${report.reaskedAfterKill}`,
    `approvals given: ${report.approvals ?? 'none (no approval share in this run)'}`,
  ].join('\n'),
);
if (report.violations.length > 0) {
  console.error(`\n${report.violations.length} violation(s):\n${report.violations.map((line) => `  - ${line}`).join('\n')}`);
  process.exitCode = 1;
} else {
  console.log('\nno violations');
}
