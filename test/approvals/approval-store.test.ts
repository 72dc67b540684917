import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Absurd } from '../../src/client/absurd.ts';
import { fingerprint } from '../../src/codec/fingerprint.ts';
import { ApprovalError } from '../../src/errors/approval-error.ts';
import { InvalidPayloadError } from '../../src/errors/invalid-payload-error.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';
import { readDecisions, recordApprovalRequest, tagApprovalWait } from '../../src/approvals/approval-store.ts';

describe('approval store', () => {
  let database: TestDatabase;
  let absurd: Absurd;
  before(async () => {
    database = await createTestDatabase();
    absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('approvals') });
    absurd.registerTask({ name: 'wait' }, async () => null);
    await absurd.createQueue();
  });
  after(async () => {
    await absurd.close();
    await database.close();
  });

  function request(taskID: string, toolCallId: string, input: unknown, timeoutSeconds: number | null, modelCall = 1) {
    return {
      taskID,
      requestKey: `support:1/model:${modelCall}/tool:refund:${toolCallId}`,
      toolCallId,
      queueName: absurd.queue,
      toolName: 'refund',
      input,
      inputDigest: fingerprint(input),
      timeoutSeconds,
    };
  }

  async function waitingCall(toolCallId = 'call-1', input: unknown = { amount: 5 }, timeoutSeconds: number | null = null) {
    const { taskID } = await absurd.spawn('wait', {});
    const requestId = await recordApprovalRequest(absurd.database, request(taskID, toolCallId, input, timeoutSeconds));
    return { taskID, requestId };
  }

  test('lists a waiting call once, however often it is recorded', async () => {
    const { taskID, requestId } = await waitingCall('call-1', { amount: 5 }, 60);
    assert.equal(await recordApprovalRequest(absurd.database, request(taskID, 'call-1', { amount: 5 }, 60)), requestId);
    const pending = await absurd.listPendingApprovals({ taskID });
    assert.equal(pending.length, 1);
    const [approval] = pending;
    assert.equal(approval!.requestId, requestId);
    assert.equal(approval!.toolCallId, 'call-1');
    assert.equal(approval!.toolName, 'refund');
    assert.deepEqual(approval!.input, { amount: 5 });
    assert.ok(approval!.requestedAt instanceof Date);
    assert.equal(approval!.expiresAt!.getTime() - approval!.requestedAt.getTime(), 60_000);
    assert.deepEqual(await absurd.listPendingApprovals({ taskID: 'not-a-uuid' }), []);
  });

  test('the first decision wins, and a second decision is refused', async () => {
    const { taskID } = await waitingCall();
    const decision = await absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: true, reason: 'ok' });
    assert.equal(decision.approved, true);
    assert.equal(decision.decidedBy, 'person');
    await assert.rejects(absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: false }), (error: unknown) => {
      assert.ok(error instanceof ApprovalError);
      assert.equal(error.reason, 'already-decided');
      assert.match(error.message, /already approved .* the first decision stands/);
      return true;
    });
    assert.deepEqual(await absurd.listPendingApprovals({ taskID }), []);
  });

  test('the event of a wait is emitted once, by the last of its decisions', async () => {
    const { taskID, requestId: first } = await waitingCall('call-1');
    const second = await recordApprovalRequest(absurd.database, request(taskID, 'call-2', { amount: 6 }, null));
    const eventName = `ai-sdk-absurd:approvals:${taskID}:test-wait`;
    assert.deepEqual(await tagApprovalWait(absurd.database, { requestIds: [first, second], eventName }), { waiting: 2, timeoutSeconds: null });
    const emitted = async () =>
      (await database.query(`select payload from absurd."e_${absurd.queue}" where event_name = $1 and payload is not null`, [eventName])).rows;
    await Promise.all([
      absurd.approveToolCall({ taskID, requestId: second, approved: false }),
      absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: true }),
    ]);
    const rows = await emitted();
    assert.equal(rows.length, 1);
    assert.equal(typeof rows[0].payload.approved, 'boolean');
    assert.deepEqual(await tagApprovalWait(absurd.database, { requestIds: [first, second], eventName: 'unused' }), { waiting: 0, timeoutSeconds: null });
  });

  test('a model call that reuses a tool call id records a request of its own', async () => {
    const { taskID, requestId: first } = await waitingCall('call_0');
    const second = await recordApprovalRequest(absurd.database, request(taskID, 'call_0', { amount: 5 }, null, 2));
    assert.notEqual(second, first);
    assert.deepEqual((await absurd.listPendingApprovals({ taskID })).map((approval) => approval.requestId), [first, second]);
  });

  test('concurrent decisions: exactly one lands', async () => {
    const { taskID } = await waitingCall();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, (_, index) =>
        absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: index % 2 === 0 }),
      ),
    );
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') assert.equal((outcome.reason as ApprovalError).reason, 'already-decided');
    }
  });

  test('a decision bound to another input is refused and changes nothing', async () => {
    const { taskID } = await waitingCall('call-1', { amount: 5 });
    await assert.rejects(
      absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: true, input: { amount: 500 } }),
      (error: unknown) => error instanceof ApprovalError && error.reason === 'input-mismatch',
    );
    const decision = await absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: true, input: { amount: 5 } });
    assert.equal(decision.approved, true);
  });

  test('unknown calls and tasks that stopped waiting are refused', async () => {
    const { taskID } = await waitingCall();
    await assert.rejects(
      absurd.approveToolCall({ taskID, toolCallId: 'call-404', approved: true }),
      (error: unknown) => error instanceof ApprovalError && error.reason === 'not-found' && /listPendingApprovals/.test(error.message),
    );
    await assert.rejects(
      absurd.approveToolCall({ taskID, requestId: '00000000-0000-4000-8000-000000000000', approved: true }),
      (error: unknown) => error instanceof ApprovalError && error.reason === 'not-found' && /No request 0{8}-/.test(error.message),
    );
    await assert.rejects(
      absurd.approveToolCall({ taskID: 'nonsense', toolCallId: 'call-1', approved: true }),
      (error: unknown) => error instanceof ApprovalError && error.reason === 'not-found',
    );
    await absurd.cancelTask(taskID);
    assert.deepEqual(await absurd.listPendingApprovals({ taskID }), []);
    await assert.rejects(
      absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: true }),
      (error: unknown) => error instanceof ApprovalError && error.reason === 'not-waiting',
    );
  });

  test('a timeout that passed denies the call unless a person decided first', async () => {
    const expired = await waitingCall('call-1', { amount: 5 }, 0);
    const [timedOut] = (await readDecisions(absurd.database, expired.taskID, [{ ...expired, toolCallId: 'call-1' }])).values();
    assert.deepEqual([timedOut?.approved, timedOut?.reason, timedOut?.decidedBy], [false, 'timed out', 'timeout']);
    await assert.rejects(absurd.approveToolCall({ taskID: expired.taskID, toolCallId: 'call-1', approved: true }), /timed out/);

    const later = await waitingCall('call-1', { amount: 5 }, 3600);
    assert.deepEqual([...(await readDecisions(absurd.database, later.taskID, [{ ...later, toolCallId: 'call-1' }])).values()], [undefined]);

    const decided = await waitingCall('call-1', { amount: 5 }, 0);
    await absurd.approveToolCall({ taskID: decided.taskID, toolCallId: 'call-1', approved: true });
    const [standing] = (await readDecisions(absurd.database, decided.taskID, [{ ...decided, toolCallId: 'call-1' }])).values();
    assert.deepEqual([standing?.approved, standing?.decidedBy], [true, 'person']);
  });

  test('a reason Postgres cannot store is refused clearly and decides nothing', async () => {
    const { taskID } = await waitingCall();
    for (const reason of ['bad\u0000reason', 'half \ud800 pair']) {
      await assert.rejects(
        absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: false, reason }),
        (error: unknown) => error instanceof InvalidPayloadError && /The approval reason contains/.test(error.message),
      );
    }
    assert.equal((await absurd.listPendingApprovals({ taskID })).length, 1);
    const decision = await absurd.approveToolCall({ taskID, toolCallId: 'call-1', approved: false, reason: 'fine' });
    assert.equal(decision.reason, 'fine');
  });
});
