// Concurrent runs of one task that suspend for approval, with the database's answers held back as on a
// remote managed Postgres: the task suspends once, with every request listed, loses no attempt, and
// completes after the decisions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { waitForEventTool } from '../../src/tools/wait-for-event-tool.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { noteTool, refundTool, scriptedModel, toolResultCount } from './approval-models.ts';
import { delayedDatabase, jitter, noDelay, type DelayedDatabase, type HoldBack } from './delayed-database.ts';

describe('approvals under database latency', () => {
  let database: TestDatabase;
  let delayed: DelayedDatabase;
  before(async () => {
    database = await createTestDatabase();
    delayed = delayedDatabase(database.db);
  });
  after(async () => {
    await delayed.close();
    await database.close();
  });

  async function runStates(queue: string, taskID: string): Promise<string[]> {
    const { rows } = await database.query(`select state from absurd."r_${queue}" where task_id = $1 order by attempt`, [taskID]);
    return rows.map((row) => row.state);
  }

  /** Holds the answer to the first wait for an event longest, so a later statement's answer overtakes it. */
  function firstWaitAnswersLast(): HoldBack {
    let waits = 0;
    return (text) => (text?.includes('absurd.await_event(') ? (waits++ === 0 ? 400 : 0) : 20);
  }

  const latencies: [string, () => HoldBack][] = [
    ['no delay', () => noDelay],
    ['every answer 150 ms late', () => () => 150],
    ['answers 0-150 ms late (seed 1)', () => jitter(150, 1)],
    ['answers 0-150 ms late (seed 7)', () => jitter(150, 7)],
    ['the first wait answers last', firstWaitAnswersLast],
  ];

  for (const [latency, holdBack] of latencies) {
    test(`two concurrent runs awaiting approval suspend the task once (${latency})`, async () => {
      const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: delayed.database, queueName: uniqueQueueName('latency') });
      const refunds: number[] = [];
      const notes: string[] = [];
      const refundModel = scriptedModel((prompt) =>
        toolResultCount(prompt) === 0 ? [{ toolCallId: 'call-1', toolName: 'refund', input: '{"amount":3}' }] : [],
      );
      const noteModel = scriptedModel((prompt) =>
        toolResultCount(prompt) === 0 ? [{ toolCallId: 'call-1', toolName: 'note', input: '{"text":"hi"}' }] : [],
      );
      const refunder = new AbsurdAgent({ id: 'refunder', model: refundModel.model, tools: { refund: refundTool(refunds) } }, absurd);
      const noter = new AbsurdAgent({ id: 'noter', model: noteModel.model, tools: { note: noteTool(notes) } }, absurd);
      absurd.registerTask({ name: 'both' }, async () => {
        const [refund, note] = await Promise.all([refunder.generate({ prompt: 'Refund' }), noter.generate({ prompt: 'Note' })]);
        return [refund.text, note.text];
      });
      try {
        await absurd.createQueue();
        const { taskID } = await absurd.spawn('both', {});
        delayed.hold = holdBack();
        await absurd.workBatch('worker', 60);
        delayed.hold = noDelay;
        assert.deepEqual(await runStates(absurd.queue, taskID), ['sleeping'], 'the attempt suspended, not failed');
        const pending = await absurd.listPendingApprovals({ taskID });
        assert.deepEqual(pending.map((approval) => approval.toolName).sort(), ['note', 'refund']);
        for (const approval of pending) await absurd.approveToolCall({ taskID, requestId: approval.requestId, approved: true });
        delayed.hold = holdBack();
        await absurd.workBatch('worker', 60);
        delayed.hold = noDelay;
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
        assert.deepEqual(await runStates(absurd.queue, taskID), ['completed'], 'no attempt was lost');
        assert.deepEqual([refunds, notes], [[3], ['hi']]);
      } finally {
        delayed.hold = noDelay;
        await absurd.close();
      }
    });
  }

  for (const [latency, holdBack] of latencies.slice(1)) {
    test(`a run awaiting approval beside a run waiting for an event (${latency})`, async () => {
      const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: delayed.database, queueName: uniqueQueueName('latency') });
      const refunds: number[] = [];
      const refundModel = scriptedModel((prompt) =>
        toolResultCount(prompt) === 0 ? [{ toolCallId: 'call-1', toolName: 'refund', input: '{"amount":4}' }] : [],
      );
      const waitModel = scriptedModel((prompt) =>
        toolResultCount(prompt) === 0 ? [{ toolCallId: 'call-1', toolName: 'waitForEvent', input: '{"event":"paid"}' }] : [],
      );
      const refunder = new AbsurdAgent({ id: 'refunder', model: refundModel.model, tools: { refund: refundTool(refunds) } }, absurd);
      const waitForEvent = waitForEventTool({ events: ['paid'], eventName: (event, { taskID }) => `${event}:${taskID}` });
      const waiter = new AbsurdAgent({ id: 'waiter', model: waitModel.model, tools: { waitForEvent } }, absurd);
      absurd.registerTask({ name: 'both' }, async () =>
        (await Promise.all([refunder.generate({ prompt: 'Refund' }), waiter.generate({ prompt: 'Wait' })])).map((result) => result.text),
      );
      try {
        await absurd.createQueue();
        const { taskID } = await absurd.spawn('both', {});
        delayed.hold = holdBack();
        await absurd.workBatch('worker', 60);
        delayed.hold = noDelay;
        assert.deepEqual(await runStates(absurd.queue, taskID), ['sleeping'], 'the attempt suspended, not failed');
        const [pending] = await absurd.listPendingApprovals({ taskID });
        assert.equal(pending?.toolName, 'refund');
        await absurd.approveToolCall({ taskID, requestId: pending!.requestId, approved: true });
        await absurd.emitEvent(`paid:${taskID}`, { amount: 4 });
        for (let pass = 0; pass < 4 && (await absurd.fetchTaskResult(taskID))?.state !== 'completed'; pass++) {
          delayed.hold = holdBack();
          await absurd.workBatch('worker', 60);
          delayed.hold = noDelay;
        }
        assert.equal((await absurd.fetchTaskResult(taskID))?.state, 'completed');
        assert.deepEqual(await runStates(absurd.queue, taskID), ['completed'], 'no attempt was lost');
        assert.deepEqual(refunds, [4]);
        assert.match(waitModel.prompts.at(-1) ? JSON.stringify(waitModel.prompts.at(-1)) : '', /"received":true/);
      } finally {
        delayed.hold = noDelay;
        await absurd.close();
      }
    });
  }
});
