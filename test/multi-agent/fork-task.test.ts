// Forking a run: a new task starts with the source task's checkpoints up to a point, replays them
// (no model request or tool call before the fork point happens again) and runs live from there.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { forkTask, forkOriginCheckpointName } from '../../src/client/fork-task.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { openAgentHarness, scriptedModel, toolOutputsInPrompt, turnIndex, type AgentHarness, type TurnScript } from '../agent/agent-harness.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

/** Looks up two quarters, one per model call, then reports what the tool said. */
const twoLookups: TurnScript = (options) => {
  const turn = turnIndex(options);
  if (turn < 2) return { toolCalls: [{ toolCallId: `call-${turn}`, toolName: 'revenue', input: { quarter: `Q${turn + 1}` } }] };
  return { text: `report: ${toolOutputsInPrompt(options).join(' ')}` };
};

describe('forkTask', () => {
  test('a fork from the middle replays the checkpoints before the fork point and runs the rest live', async () => {
    const lookups: string[] = [];
    let figures: Record<string, string> = { Q1: '10', Q2: '20' };
    const model = scriptedModel(twoLookups);
    const revenue = tool({
      inputSchema: z.object({ quarter: z.string() }),
      execute: async ({ quarter }) => {
        lookups.push(quarter);
        return figures[quarter];
      },
    });
    const agent = new AbsurdAgent({ id: 'analyst', model, tools: { revenue } }, harness.absurd);
    harness.absurd.registerTask({ name: 'report' }, async (params: { prompt: string }) => ({
      text: (await agent.generate({ prompt: params.prompt })).text,
    }));
    const source = await harness.run('report', { prompt: 'revenue' });
    assert.equal(source.snapshot.state, 'completed');
    assert.equal((source.snapshot.result as { text: string }).text, 'report: {"type":"text","value":"10"} {"type":"text","value":"20"}');
    const sourceCheckpoints = (await harness.checkpoints(source.taskID)).map((row) => row.name);
    assert.equal(sourceCheckpoints.length, 5, `model, tool, model, tool, model: ${sourceCheckpoints.join(', ')}`);
    assert.equal(model.doGenerateCalls.length, 3);

    // The Q2 figure was wrong: fix it and fork after the second model call, before the Q2 lookup ran.
    figures = { Q1: 'wrong', Q2: '25' };
    lookups.length = 0;
    const fork = await forkTask(harness.absurd.database, harness.absurd.queue, source.taskID, { fromCheckpoint: 3 });
    assert.deepEqual(fork.copiedCheckpoints, sourceCheckpoints.slice(0, 3));
    assert.deepEqual(fork.forkedFrom, { taskID: source.taskID, checkpointName: sourceCheckpoints[2], checkpointNumber: 3 });

    for (let round = 0; round < 5; round++) await harness.absurd.workBatch('fork-test', 60, 1);
    const forked = await harness.absurd.fetchTaskResult(fork.taskID);
    assert.equal(forked?.state, 'completed');
    assert.equal((forked?.result as { text: string }).text, 'report: {"type":"text","value":"10"} {"type":"text","value":"25"}', 'Q1 replayed from the source, Q2 looked up again');
    assert.deepEqual(lookups, ['Q2'], 'only the tool call after the fork point ran');
    assert.equal(model.doGenerateCalls.length, 4, 'only the last model call was made again');

    const forkCheckpoints = await harness.checkpoints(fork.taskID);
    const origin = forkCheckpoints.find((row) => row.name === forkOriginCheckpointName);
    assert.deepEqual(origin?.state, fork.forkedFrom, 'the fork records where it came from');
  });

  test('new params, a fork by checkpoint name, and a fork from nothing', async () => {
    const model = scriptedModel((options) => ({ text: `echo ${JSON.stringify(options.prompt.at(-1))}` }));
    const agent = new AbsurdAgent({ id: 'echo', model }, harness.absurd);
    harness.absurd.registerTask({ name: 'echo' }, async (params: { prompt: string }) => ({
      text: (await agent.generate({ prompt: params.prompt })).text,
    }));
    const source = await harness.run('echo', { prompt: 'first' });
    const [only] = (await harness.checkpoints(source.taskID)).map((row) => row.name);

    const byName = await forkTask(harness.absurd.database, harness.absurd.queue, source.taskID, { fromCheckpoint: only! });
    assert.deepEqual(byName.copiedCheckpoints, [only]);
    const fresh = await forkTask(harness.absurd.database, harness.absurd.queue, source.taskID, { fromCheckpoint: 0, params: { prompt: 'second' } });
    assert.deepEqual(fresh.copiedCheckpoints, []);
    const calls = model.doGenerateCalls.length;
    for (let round = 0; round < 5; round++) await harness.absurd.workBatch('fork-test', 60, 2);
    assert.match(await resultText(harness.absurd, byName.taskID), /first/);
    assert.match(await resultText(harness.absurd, fresh.taskID), /second/);
    assert.equal(model.doGenerateCalls.length, calls + 1, 'the fork by name replayed its only model call');
  });

  test("a fork across a changed prompt follows the agent's replayDivergence policy", async () => {
    // The code of the task builds its prompt; a deploy changes it between the source run and the fork.
    let prompt = 'Revenue, briefly.';
    const model = scriptedModel(twoLookups);
    const revenue = tool({ inputSchema: z.object({ quarter: z.string() }), execute: async ({ quarter }) => `${quarter}: 1` });
    const agents = {
      strict: new AbsurdAgent({ id: 'strict-analyst', model, tools: { revenue } }, harness.absurd),
      lenient: new AbsurdAgent({ id: 'lenient-analyst', model, tools: { revenue }, replayDivergence: 'warn' }, harness.absurd),
    };
    for (const [name, agent] of Object.entries(agents)) {
      harness.absurd.registerTask({ name: `diverge-${name}` }, async () => ({ text: (await agent.generate({ prompt })).text }));
    }
    const strictSource = await harness.run('diverge-strict', {});
    const lenientSource = await harness.run('diverge-lenient', {});
    assert.equal(strictSource.snapshot.state, 'completed');
    assert.equal(lenientSource.snapshot.state, 'completed');

    prompt = 'Revenue, in detail.';
    const strictFork = await forkTask(harness.absurd.database, harness.absurd.queue, strictSource.taskID, { fromCheckpoint: 3 });
    const lenientFork = await forkTask(harness.absurd.database, harness.absurd.queue, lenientSource.taskID, { fromCheckpoint: 3 });
    for (let round = 0; round < 5; round++) await harness.absurd.workBatch('fork-test', 60, 2);
    const strict = await harness.absurd.fetchTaskResult(strictFork.taskID);
    assert.equal(strict?.state, 'failed', JSON.stringify(strict));
    assert.equal((strict as { failure?: { name?: string } }).failure?.name, 'AiSdkAbsurdReplayDivergenceError');
    assert.equal((await harness.absurd.fetchTaskResult(lenientFork.taskID))?.state, 'completed');
  });

  test('a fork point that does not exist, an unknown task and a malformed id are refused, and nothing is spawned', async () => {
    const model = scriptedModel(() => ({ text: 'ok' }));
    const agent = new AbsurdAgent({ id: 'small', model }, harness.absurd);
    harness.absurd.registerTask({ name: 'small' }, async () => ({ text: (await agent.generate({ prompt: 'x' })).text }));
    const source = await harness.run('small', {});
    const { rows: before } = await harness.database.query(`select count(*)::int as n from absurd.t_${harness.absurd.queue}`);
    const refuse = (options: Parameters<typeof forkTask>[3], pattern: RegExp, taskID = source.taskID) =>
      assert.rejects(forkTask(harness.absurd.database, harness.absurd.queue, taskID, options), (error: unknown) => {
        assert.ok(error instanceof ConfigurationError, String(error));
        assert.match(error.message, pattern);
        return true;
      });
    await refuse({ fromCheckpoint: 2 }, /has 1 checkpoints, so fromCheckpoint 2 does not exist. Use a number from 0 to 1/);
    await refuse({ fromCheckpoint: 'nope' }, /no committed checkpoint named "nope"/);
    await refuse({ fromCheckpoint: -1 }, /must be a whole number/);
    await refuse({ fromCheckpoint: 1 }, /no task 00000000-0000-4000-8000-000000000000 exists in queue/, '00000000-0000-4000-8000-000000000000');
    await refuse({ fromCheckpoint: 1 }, /Invalid task id "not-a-task"/, 'not-a-task');
    const { rows: after } = await harness.database.query(`select count(*)::int as n from absurd.t_${harness.absurd.queue}`);
    assert.equal(after[0].n, before[0].n);
  });
});

/** The `text` of a completed task's result ('' until it completed). */
async function resultText(client: { fetchTaskResult(taskID: string): Promise<unknown> }, taskID: string): Promise<string> {
  const snapshot = (await client.fetchTaskResult(taskID)) as { result?: { text?: unknown } } | null;
  return typeof snapshot?.result?.text === 'string' ? snapshot.result.text : '';
}
