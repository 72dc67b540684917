// Sub-agents as child tasks: the parent suspends while its children run (holding no worker), resumes
// when the database reports each child finished, and sees a child's failure or cancellation as the
// tool's error. A cancelled parent cancels its unfinished children.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { subAgentTool } from '../../src/tools/sub-agent-tool.ts';
import { renderTimeline } from '../../src/cli/commands/show-command.ts';
import { listChildTasks } from '../../src/history/task-children.ts';
import { locateTask, readTaskTimeline } from '../../src/history/task-history.ts';
import { openAgentHarness, scriptedModel, silentLog, type AgentHarness } from '../agent/agent-harness.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { leadScript, researcherScript } from './scripted-sub-agents.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

async function childrenOf(parentTaskID: string) {
  const { rows } = await harness.database.query(
    `select child_queue, child_task_id::text as task_id, tool_call_step from ai_sdk_absurd.task_children
     where parent_task_id = $1 order by tool_call_step`,
    [parentTaskID],
  );
  return rows as { child_queue: string; task_id: string; tool_call_step: string }[];
}

describe('subAgentTool', () => {
  test('a parent with three parallel children completes on one worker slot, each child spawned and run once', async () => {
    const researcherModel = scriptedModel(researcherScript);
    const researcher = new AbsurdAgent({ id: 'researcher', model: researcherModel }, harness.absurd);
    const research = subAgentTool(researcher, { description: 'Research one topic.' });
    const leadModel = scriptedModel(leadScript(['tides', 'winds', 'currents']));
    const lead = new AbsurdAgent({ id: 'lead', model: leadModel, tools: { research } }, harness.absurd);
    harness.absurd.registerTask({ name: 'lead' }, async () => ({ text: (await lead.generate({ prompt: 'go' })).text }));

    const { taskID } = await harness.absurd.spawn('lead', {});
    for (let round = 0; round < 30; round++) {
      await harness.absurd.workBatch('one-slot', 60, 1);
      if ((await harness.absurd.fetchTaskResult(taskID))?.state === 'completed') break;
    }
    const result = await harness.absurd.fetchTaskResult(taskID);
    assert.equal(result?.state, 'completed', JSON.stringify(result));
    const text = (result?.result as { text: string }).text;
    for (const topic of ['tides', 'winds', 'currents']) assert.match(text, new RegExp(`finding on ${topic}`));

    const children = await childrenOf(taskID);
    assert.equal(children.length, 3, 'one child task per tool call');
    for (const child of children) assert.equal((await harness.absurd.fetchTaskResult(child.task_id))?.state, 'completed');
    assert.equal(researcherModel.doGenerateCalls.length, 3, 'each child ran its model call once');
    assert.equal(leadModel.doGenerateCalls.length, 2, "the parent's first model call replayed while it waited");

    // `show` prints the children as a tree under the parent.
    const timeline = await readTaskTimeline(harness.absurd.database, taskID);
    const lines = await Promise.all(
      (await listChildTasks(harness.absurd.database, harness.absurd.queue, taskID)).map(async (child) => ({
        ...child,
        taskName: (await locateTask(harness.absurd.database, child.taskID))?.taskName ?? null,
        state: (await locateTask(harness.absurd.database, child.taskID))?.state ?? null,
      })),
    );
    const printed = renderTimeline(timeline!, lines);
    assert.match(printed, /Sub-agents \(child tasks/);
    for (const child of children) assert.match(printed, new RegExp(`\\n  ${child.task_id}  sub-agent:researcher  completed  queue`));

    // Cleanup takes the lineage rows with the tasks.
    await harness.database.query('select absurd.cleanup_tasks($1, 0)', [harness.absurd.queue]);
    assert.equal((await childrenOf(taskID)).length, 0);
  });

  test("a child's failure is the tool error the parent's model reads; a cancelled child fails its tool call", async () => {
    const childQueue = uniqueQueueName('children');
    const childClient = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: harness.absurd.database, queueName: childQueue, log: silentLog });
    await childClient.createQueue();
    try {
      const researcher = new AbsurdAgent({ id: 'fragile', model: scriptedModel(researcherScript) }, childClient);
      const research = subAgentTool(researcher, { description: 'Research one topic.', maxAttempts: 1 });
      const lead = new AbsurdAgent({ id: 'lead-2', model: scriptedModel(leadScript(['explode', 'calm seas'])), tools: { research } }, harness.absurd);
      harness.absurd.registerTask({ name: 'lead-2' }, async () => ({ text: (await lead.generate({ prompt: 'go' })).text }));
      const { taskID } = await harness.absurd.spawn('lead-2', {});
      await harness.absurd.workBatch('parent', 60, 1);
      assert.equal((await harness.absurd.fetchTaskResult(taskID))?.state, 'sleeping', 'the parent waits without a worker');

      const children = await childrenOf(taskID);
      assert.equal(children.length, 2);
      assert.ok(children.every((child) => child.child_queue === childQueue));
      // The child that would explode fails; the other is cancelled by an operator before it runs.
      const calm = children[1]!.task_id;
      await childClient.cancelTask(calm);
      for (let round = 0; round < 5; round++) await childClient.workBatch('children', 60, 1);
      for (let round = 0; round < 5; round++) await harness.absurd.workBatch('parent', 60, 1);

      const result = await harness.absurd.fetchTaskResult(taskID);
      assert.equal(result?.state, 'completed', JSON.stringify(result));
      const text = (result?.result as { text: string }).text;
      assert.match(text, /failed: cannot research \\"explode\\"/);
      assert.match(text, new RegExp(`Sub-agent task ${calm} .* was cancelled before it finished`));
    } finally {
      await childClient.close();
    }
  });

  test("with onChildFailure: 'fail-parent', a failed child fails the parent run with SubAgentError", async () => {
    const researcher = new AbsurdAgent({ id: 'brittle', model: scriptedModel(researcherScript) }, harness.absurd);
    const research = subAgentTool(researcher, { description: 'Research one topic.', maxAttempts: 1, onChildFailure: 'fail-parent' });
    const leadModel = scriptedModel(leadScript(['explode']));
    const lead = new AbsurdAgent({ id: 'lead-4', model: leadModel, tools: { research } }, harness.absurd);
    harness.absurd.registerTask({ name: 'lead-4' }, async () => ({ text: (await lead.generate({ prompt: 'go' })).text }));
    const { taskID } = await harness.absurd.spawn('lead-4', {}, { maxAttempts: 1 });
    for (let round = 0; round < 10; round++) await harness.absurd.workBatch('fail-parent', 60, 1);
    const result = await harness.absurd.fetchTaskResult(taskID);
    assert.equal(result?.state, 'failed');
    const failure = (result as { failure?: { name?: string; message?: string } }).failure;
    assert.equal(failure?.name, 'AiSdkAbsurdSubAgentError');
    assert.match(failure?.message ?? '', /failed: cannot research/);
    assert.equal(leadModel.doGenerateCalls.length, 1, 'the parent made no model call after the child failed');
  });

  test('cancelling the parent cancels its unfinished children', async () => {
    const childQueue = uniqueQueueName('children');
    const childClient = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: harness.absurd.database, queueName: childQueue, log: silentLog });
    await childClient.createQueue();
    try {
      const researcher = new AbsurdAgent({ id: 'slow', model: scriptedModel(researcherScript) }, childClient);
      const research = subAgentTool(researcher, { description: 'Research one topic.' });
      const lead = new AbsurdAgent({ id: 'lead-3', model: scriptedModel(leadScript(['a', 'b'])), tools: { research } }, harness.absurd);
      harness.absurd.registerTask({ name: 'lead-3' }, async () => ({ text: (await lead.generate({ prompt: 'go' })).text }));
      const { taskID } = await harness.absurd.spawn('lead-3', {});
      await harness.absurd.workBatch('parent', 60, 1);
      const children = await childrenOf(taskID);
      assert.equal(children.length, 2);

      await harness.absurd.cancelTask(taskID);
      for (const child of children) assert.equal((await childClient.fetchTaskResult(child.task_id))?.state, 'cancelled');
    } finally {
      await childClient.close();
    }
  });

  test('bad settings are refused when the tool is built', () => {
    const agent = new AbsurdAgent({ id: 'x', model: scriptedModel(researcherScript) }, harness.absurd);
    assert.throws(() => subAgentTool(agent, { description: '' }), (error: unknown) => error instanceof ConfigurationError && error.setting === 'description');
    assert.throws(() => subAgentTool(agent, { description: 'd', maxAttempts: 0 }), /maxAttempts must be a whole number/);
    assert.throws(() => subAgentTool(agent, { description: 'd', onChildFailure: 'ignore' as never }), /onChildFailure must be/);
  });
});
