// Sub-agent streams forwarded into the parent's durable stream: a reader of the parent's stream sees each
// child's chunks once, as `data-sub-agent` parts, and the UI message it assembles holds one part per child
// with the child's text and how it ended.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { readStream } from '../../src/streams/read-stream.ts';
import { subAgentTool } from '../../src/tools/sub-agent-tool.ts';
import { forwardChildStream, subAgentPartType, type SubAgentPart } from '../../src/tools/sub-agent-stream-forwarding.ts';
import { assertForwardedOnce, collectChunks as collect, subAgentParts } from './forwarded-parts.ts';
import { openAgentHarness, scriptedModel, silentLog, type AgentHarness } from '../agent/agent-harness.ts';
import { uniqueQueueName } from '../support/test-database.ts';
import { leadScript, researcherScript } from './scripted-sub-agents.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

/** The message a UI (`useChat`, `readUIMessageStream`) assembles from the chunks, once they all arrived. */
async function lastMessage(chunks: readonly UIMessageChunk[]): Promise<UIMessage> {
  let message: UIMessage | undefined;
  for await (const update of readUIMessageStream({ stream: Readable.toWeb(Readable.from(chunks)) as ReadableStream<UIMessageChunk> })) message = update;
  assert.ok(message, 'the stream made a message');
  return message;
}

describe('subAgentTool({ forwardStream: true })', () => {
  test("a reader of the parent's stream sees each child's chunks once, and the UI message one part per child", async () => {
    const topics = ['tides', 'winds'];
    const researcher = new AbsurdAgent({ id: 'streaming-researcher', model: scriptedModel(researcherScript) }, harness.absurd);
    const research = subAgentTool(researcher, { description: 'Research one topic.', forwardStream: true });
    const lead = new AbsurdAgent({ id: 'streaming-lead', model: scriptedModel(leadScript(topics)), tools: { research } }, harness.absurd);
    harness.absurd.registerTask({ name: 'streaming-lead' }, async () => {
      const result = await lead.stream({ prompt: 'go' });
      return { text: await result.text };
    });

    const { taskID } = await harness.absurd.spawn('streaming-lead', {});
    // The reader follows the parent's stream live, from before the run starts until the task ends.
    const reading = collect(readStream(harness.absurd.database, harness.absurd.queue, taskID, { pollIntervalMs: 50 }));
    for (let round = 0; round < 30; round++) {
      await harness.absurd.workBatch('one-slot', 60, 1);
      if ((await harness.absurd.fetchTaskResult(taskID))?.state === 'completed') break;
    }
    assert.equal((await harness.absurd.fetchTaskResult(taskID))?.state, 'completed');
    const chunks = await reading;

    const { rows: children } = await harness.database.query(
      `select child_task_id::text as task_id, tool_call_step from ai_sdk_absurd.task_children where parent_task_id = $1`,
      [taskID],
    );
    assert.equal(children.length, 2);
    const forwarded = subAgentParts(chunks);
    for (const child of children as { task_id: string }[]) {
      const childChunks = await collect(readStream(harness.absurd.database, harness.absurd.queue, child.task_id));
      assert.ok(childChunks.some((chunk) => chunk.type === 'text-delta'), 'the child streamed its text');
      const parts = forwarded.filter((part) => part.id === child.task_id);
      assertForwardedOnce(parts, childChunks, 'completed');
      const result = ((await harness.absurd.fetchTaskResult(child.task_id)) as { result?: { text: string } } | null)?.result;
      assert.equal(parts.at(-1)?.data.text, result?.text);
      assert.match(parts[0]!.data.toolCallId, /^call-[01]$/);
      assert.equal(parts[0]!.data.agent, 'streaming-researcher');
    }

    // The forwarded parts come between the tool call and its result.
    const firstPart = chunks.findIndex((chunk) => chunk.type === subAgentPartType);
    assert.ok(firstPart > chunks.findIndex((chunk) => chunk.type === 'tool-input-available'));
    assert.ok(firstPart < chunks.findIndex((chunk) => chunk.type === 'tool-output-available'));

    // A UI keeps one part per child (same id, so each update replaces the last) with its final text.
    const message = await lastMessage(chunks);
    const shown = message.parts.filter((part) => part.type === subAgentPartType) as unknown as SubAgentPart[];
    assert.deepEqual(shown.map((part) => part.data.state), ['completed', 'completed']);
    assert.deepEqual(shown.map((part) => part.data.text).sort(), ['finding on tides', 'finding on winds']);
  });

  test('forwards that race, and forwards repeated after the end, add nothing twice', async () => {
    const queue = uniqueQueueName('fwd');
    const client = new Absurd({ db: harness.absurd.database, queueName: queue, log: silentLog });
    await client.createQueue();
    try {
      const parent = await client.spawn('nobody-runs-this', {}, { queue });
      const child = await client.spawn('nobody-runs-this-either', {}, { queue });
      const append = (chunks: UIMessageChunk[]) =>
        harness.database.query('select ai_sdk_absurd.append_stream_chunks($1, $2, null, $3::jsonb)', [queue, child.taskID, JSON.stringify(chunks)]);
      const forwarding = { parentQueue: queue, parentTaskID: parent.taskID, toolCallId: 'call-9', agent: 'a' };
      const target = { queue, taskID: child.taskID };
      const forward = (state?: 'completed') => forwardChildStream(harness.absurd.database, forwarding, target, state);

      await append([{ type: 'start' }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'one ' }]);
      await Promise.all([forward(), forward(), forward()]);
      await append([{ type: 'text-delta', id: 't', delta: 'two' }, { type: 'text-end', id: 't' }]);
      await Promise.all([forward(), forward('completed'), forward('completed')]);
      await forward();

      const parentChunks = await harness.database.query(
        `select chunk from ai_sdk_absurd.stream_chunks where queue_name = $1 and task_id = $2 order by chunk_index`,
        [queue, parent.taskID],
      );
      const parts = parentChunks.rows.map((row: { chunk: unknown }) => row.chunk) as SubAgentPart[];
      const childChunks = await harness.database.query(
        `select chunk from ai_sdk_absurd.stream_chunks where queue_name = $1 and task_id = $2 order by chunk_index`,
        [queue, child.taskID],
      );
      assertForwardedOnce(parts, childChunks.rows.map((row: { chunk: UIMessageChunk }) => row.chunk), 'completed');
      assert.equal(parts.at(-1)?.data.text, 'one two');
    } finally {
      await client.close();
    }
  });

  test('a child cancelled before it ran still ends with a final part saying so', async () => {
    const childQueue = uniqueQueueName('children');
    const childClient = new Absurd({ db: harness.absurd.database, queueName: childQueue, log: silentLog });
    await childClient.createQueue();
    try {
      const researcher = new AbsurdAgent({ id: 'never-runs', model: scriptedModel(researcherScript) }, childClient);
      const research = subAgentTool(researcher, { description: 'Research one topic.', forwardStream: true });
      const lead = new AbsurdAgent({ id: 'lead-cancel', model: scriptedModel(leadScript(['calm'])), tools: { research } }, harness.absurd);
      harness.absurd.registerTask({ name: 'lead-cancel' }, async () => {
        const result = await lead.stream({ prompt: 'go' });
        return { text: await result.text };
      });
      const { taskID } = await harness.absurd.spawn('lead-cancel', {});
      await harness.absurd.workBatch('parent', 60, 1);
      const { rows } = await harness.database.query(`select child_task_id::text as id from ai_sdk_absurd.task_children where parent_task_id = $1`, [taskID]);
      await childClient.cancelTask(rows[0].id);
      for (let round = 0; round < 5; round++) await harness.absurd.workBatch('parent', 60, 1);
      assert.equal((await harness.absurd.fetchTaskResult(taskID))?.state, 'completed');
      const parts = subAgentParts(await collect(readStream(harness.absurd.database, harness.absurd.queue, taskID)));
      assert.deepEqual(parts.map((part) => [part.id, part.data.state, part.data.chunks.length]), [[rows[0].id, 'cancelled', 0]]);
    } finally {
      await childClient.close();
    }
  });

  test('forwardStream must be a boolean, and needs an agent that streams', () => {
    const agent = new AbsurdAgent({ id: 'y', model: scriptedModel(researcherScript) }, harness.absurd);
    assert.throws(() => subAgentTool(agent, { description: 'd', forwardStream: 'yes' as never }), (error: unknown) => error instanceof ConfigurationError && error.setting === 'forwardStream');
    const generateOnly = { name: 'g', absurd: harness.absurd, generate: async () => ({ text: '' }) };
    assert.throws(() => subAgentTool(generateOnly, { description: 'd', forwardStream: true }), /needs an agent with a stream\(\) method/);
  });
});
