// `ai-sdk-absurd demo` end to end, as `npm run demo` runs it: a worker process is killed with SIGKILL mid-run,
// a second one resumes, and the demo exits 0 only when its evidence holds. The database it leaves behind is then
// read back with `show`, so the evidence is checked independently of the demo's own output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startScriptedModelServer } from '../../src/demo/scripted-model-server.ts';
import { createChildDatabase, type ChildDatabase } from '../docs/support/child-database.ts';
import { describeRun, runNode, type NodeRun } from '../docs/support/run-node.ts';

const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const withoutProviderKeys = { OPENAI_API_KEY: undefined, AI_GATEWAY_API_KEY: undefined, ABSURD_DATABASE_URL: undefined };

describe('ai-sdk-absurd demo', () => {
  let database: ChildDatabase;
  let demo: NodeRun;
  let taskID: string;

  before(async () => {
    database = await createChildDatabase();
    demo = await runNode(cli, ['demo', '--db', database.url], { env: withoutProviderKeys, timeoutMs: 240_000 });
    taskID = /spawned task "analyse" ([0-9a-f-]{36})/.exec(demo.stdout)?.[1] ?? '';
  });

  after(async () => {
    await database?.close();
  });

  test('exits 0 after the crash and the resume, every check passing', () => {
    assert.equal(demo.code, 0, describeRun('demo', demo));
    assert.ok(taskID, 'the demo printed no task id');
    const output = demo.stdout;
    assert.match(output, /SCRIPTED model/);
    assert.match(output, /killed worker 1 \(pid \d+\) with SIGKILL/);
    assert.match(output, /claimed the task: attempt 2/);
    assert.match(output, /step 1 replayed from checkpoints: no model call, no tool run/);
    const checks = output.split('\n').filter((line) => /^\s+[✓✗] /.test(line));
    assert.ok(checks.length >= 6, `too few checks:\n${output}`);
    assert.deepEqual(checks.filter((line) => line.includes('✗')), []);
    assert.match(output, /asked twice: 0/);
    assert.match(output, /executed twice: 0/);
    assert.match(output, /Time per phase[\s\S]*total\s+\d+\.\d s/);
  });

  test('the task it leaves behind shows attempt 2 replaying attempt 1', async () => {
    const show = await runNode(cli, ['show', taskID, '--db', database.url, '--json'], { env: withoutProviderKeys });
    assert.equal(show.code, 0, describeRun('show', show));
    const timeline = JSON.parse(show.stdout) as {
      task: { state: string; attempts: number; modelCalls: number };
      runs: Array<{ attempt: number; state: string; failureReason: { name?: string } | null }>;
      entries: Array<{ checkpoint: { type: string; name: string }; attempt: number; replayedOn: number[] }>;
    };
    assert.equal(timeline.task.state, 'completed');
    assert.deepEqual(
      timeline.runs.map((run) => [run.attempt, run.state]),
      [
        [1, 'failed'],
        [2, 'completed'],
      ],
    );
    assert.equal(timeline.runs[0]?.failureReason?.name, '$ClaimTimeout');
    const firstModelCall = timeline.entries.find((entry) => entry.checkpoint.name.endsWith('/model:1'));
    assert.deepEqual([firstModelCall?.attempt, firstModelCall?.replayedOn], [1, [2]]);
    const models = timeline.entries.filter((entry) => entry.checkpoint.type === 'model-call');
    assert.equal(new Set(models.map((entry) => entry.checkpoint.name)).size, models.length);
    assert.equal(models.length, timeline.task.modelCalls);
  });

  test('with OPENAI_API_KEY it uses the OpenAI provider instead of its scripted model', async () => {
    // An OpenAI-compatible endpoint stands in for api.openai.com; the demo must take the real-provider path.
    const endpoint = await startScriptedModelServer({ thinkMs: 400 });
    const other = await createChildDatabase();
    try {
      const result = await runNode(cli, ['demo', '--db', other.url, '--claim-timeout', '3'], {
        env: { ...withoutProviderKeys, OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: endpoint.baseURL },
        timeoutMs: 240_000,
      });
      assert.equal(result.code, 0, describeRun('demo with OPENAI_API_KEY', result));
      assert.match(result.stdout, /model: +OpenAI model "gpt-5-mini" \(OPENAI_API_KEY is set\)/);
      assert.doesNotMatch(result.stdout, /SCRIPTED/);
      assert.ok(endpoint.requests.some((request) => request.conversation.model === 'gpt-5-mini'));
      assert.deepEqual(endpoint.repeatedRequests(), []);
    } finally {
      await endpoint.close();
      await other.close();
    }
  });

  test('fails with a clear message and exit code 1 when it cannot run', async () => {
    const result = await runNode(cli, ['demo', '--db', 'mysql://localhost/nothing'], { env: withoutProviderKeys });
    assert.equal(result.code, 1, describeRun('demo with a bad database URL', result));
    assert.match(result.stderr, /^error: Unrecognised database URL/m);
  });
});
