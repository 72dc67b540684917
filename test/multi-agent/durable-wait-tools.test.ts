// The sleep and wait-for-event tools end to end: the model asks to wait, the task suspends (no worker
// is held), and the same run continues later from its checkpoints, with no model call paid again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { JsonValue } from 'absurd-sdk';
import { Absurd } from '../../src/client/absurd.ts';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { sleepTool } from '../../src/tools/sleep-tool.ts';
import { waitForEventTool } from '../../src/tools/wait-for-event-tool.ts';
import { scriptedModel, silentLog, toolOutputsInPrompt, turnIndex, type TurnScript } from '../agent/agent-harness.ts';
import { createTestDatabase, uniqueQueueName, usingPostgres, type TestDatabase } from '../support/test-database.ts';

let database: TestDatabase;
let absurd: Absurd;
let pool: pg.Pool | undefined;

before(async () => {
  database = await createTestDatabase();
  // One session for everything, so that `absurd.fake_now` (a session setting) is the clock of every query.
  if (usingPostgres) pool = new pg.Pool({ connectionString: database.url, max: 1, idleTimeoutMillis: 0 });
  absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: pool ?? database.db, queueName: uniqueQueueName('waits'), log: silentLog });
  await absurd.createQueue();
});
after(async () => {
  await absurd.close();
  await pool?.end();
  await database.close();
});

async function setClock(iso: string): Promise<void> {
  await absurd.database.query(`select set_config('absurd.fake_now', $1, false)`, [iso]);
}

async function workUntilIdle(): Promise<void> {
  for (let round = 0; round < 5; round++) await absurd.workBatch('waits-test', 60, 4);
}

async function taskState(taskID: string): Promise<string | undefined> {
  return (await absurd.fetchTaskResult(taskID))?.state;
}

/** First turn: call `toolName` with `input`; then answer with what the tool returned. */
function callThenReport(toolName: string, input: unknown): TurnScript {
  return (options) =>
    turnIndex(options) === 0
      ? { toolCalls: [{ toolCallId: 'call-1', toolName, input }] }
      : { text: `tool said ${toolOutputsInPrompt(options).join(' | ')}` };
}

describe('sleepTool', () => {
  test('the task sleeps without a worker until the database clock passes the wake time, then the same run continues', async () => {
    await setClock('2030-01-01T00:00:00Z');
    const model = scriptedModel(callThenReport('sleep', { seconds: 7200, reason: 'wait for the report' }));
    const agent = new AbsurdAgent({ id: 'sleeper', model, tools: { sleep: sleepTool({ maxSeconds: 86_400 }) } }, absurd);
    absurd.registerTask({ name: 'sleep-task' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
    const { taskID } = await absurd.spawn('sleep-task', {});

    await workUntilIdle();
    assert.equal(await taskState(taskID), 'sleeping');
    assert.equal(model.doGenerateCalls.length, 1);
    const { rows } = await database.query(`select available_at from absurd.r_${absurd.queue} where task_id = $1 and state = 'sleeping'`, [taskID]);
    assert.equal(new Date(rows[0].available_at).toISOString(), '2030-01-01T02:00:00.000Z');

    await setClock('2030-01-01T01:59:00Z');
    await workUntilIdle();
    assert.equal(await taskState(taskID), 'sleeping', 'not woken before its time');

    await setClock('2030-01-01T02:00:05Z');
    await workUntilIdle();
    const snapshot = await absurd.fetchTaskResult(taskID);
    assert.equal(snapshot?.state, 'completed');
    const text = (snapshot?.result as { text: string }).text;
    assert.match(text, /"wakeAt":"2030-01-01T02:00:00.000Z"/);
    assert.match(text, /"wokeAt":"2030-01-01T02:00:05.000Z"/);
    assert.match(text, /"reason":"wait for the report"/);
    assert.equal(model.doGenerateCalls.length, 2, 'the first model call was replayed, not repeated');
  });

  test('until: a time to continue at; a time beyond maxSeconds is refused to the model and nothing sleeps', async () => {
    await setClock('2030-02-01T00:00:00Z');
    const model = scriptedModel(callThenReport('sleep', { until: '2030-02-01T00:10:00Z' }));
    const agent = new AbsurdAgent({ id: 'until', model, tools: { sleep: sleepTool({ maxSeconds: 3600 }) } }, absurd);
    absurd.registerTask({ name: 'until-task' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
    const { taskID } = await absurd.spawn('until-task', {});
    await workUntilIdle();
    assert.equal(await taskState(taskID), 'sleeping');
    await setClock('2030-02-01T00:10:00Z');
    await workUntilIdle();
    assert.match(await resultText(absurd, taskID), /"wokeAt":"2030-02-01T00:10:00.000Z"/);

    const tooFar = scriptedModel(callThenReport('sleep', { until: '2030-02-03T00:00:00Z' }));
    const impatient = new AbsurdAgent({ id: 'too-far', model: tooFar, tools: { sleep: sleepTool({ maxSeconds: 3600 }) } }, absurd);
    absurd.registerTask({ name: 'too-far-task' }, async () => ({ text: (await impatient.generate({ prompt: 'go' })).text }));
    const second = await absurd.spawn('too-far-task', {});
    await workUntilIdle();
    const result = await absurd.fetchTaskResult(second.taskID);
    assert.equal(result?.state, 'completed');
    assert.match((result as { result?: { text?: string } } | null)?.result?.text ?? '', /more than 3600 seconds from now/);
  });

  test('input outside the bounds the developer set is a tool error the model reads', async () => {
    const model = scriptedModel(callThenReport('sleep', { seconds: 999_999 }));
    const agent = new AbsurdAgent({ id: 'bounded', model, tools: { sleep: sleepTool({ maxSeconds: 60 }) } }, absurd);
    absurd.registerTask({ name: 'bounded-task' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
    const { taskID } = await absurd.spawn('bounded-task', {});
    await workUntilIdle();
    const result = await absurd.fetchTaskResult(taskID);
    assert.equal(result?.state, 'completed');
    assert.match((result as { result?: { text?: string } } | null)?.result?.text ?? '', /seconds must be between 0 and 60/);
  });

  test('bad settings are refused when the tool is built', () => {
    assert.throws(() => sleepTool({ maxSeconds: -1 }), (error: unknown) => error instanceof ConfigurationError && error.setting === 'maxSeconds');
    assert.throws(() => sleepTool({ minSeconds: 10, maxSeconds: 5 }), /minSeconds \(10\) is larger than maxSeconds \(5\)/);
  });
});

describe('waitForEventTool', () => {
  test('the task waits for an allowed event emitted by another process; the payload is the tool result', async () => {
    await setClock('2030-03-01T00:00:00Z');
    const model = scriptedModel(callThenReport('waitForEvent', { event: 'invoice.paid' }));
    const waitForEvent = waitForEventTool({
      events: { 'invoice.paid': 'The customer paid.', 'invoice.void': 'The invoice was voided.' },
      eventName: (event, { taskID }) => `${event}:${taskID}`,
    });
    const agent = new AbsurdAgent({ id: 'waiter', model, tools: { waitForEvent } }, absurd);
    absurd.registerTask({ name: 'wait-task' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
    const { taskID } = await absurd.spawn('wait-task', {});
    await workUntilIdle();
    assert.equal(await taskState(taskID), 'sleeping');

    await emitFromAnotherProcess(`invoice.paid:${taskID}`, { amount: 120 });
    await workUntilIdle();
    const result = await absurd.fetchTaskResult(taskID);
    assert.equal(result?.state, 'completed');
    assert.match((result as { result?: { text?: string } } | null)?.result?.text ?? '', /"received":true,"payload":\{"amount":120\}/);
    assert.equal(model.doGenerateCalls.length, 2);
  });

  test('a wait that times out tells the model so; an event not in the list is refused before anything waits', async () => {
    await setClock('2030-04-01T00:00:00Z');
    const model = scriptedModel(callThenReport('waitForEvent', { event: 'approved', timeoutSeconds: 60 }));
    const agent = new AbsurdAgent({ id: 'timeout', model, tools: { waitForEvent: waitForEventTool({ events: ['approved'] }) } }, absurd);
    absurd.registerTask({ name: 'timeout-task' }, async () => ({ text: (await agent.generate({ prompt: 'go' })).text }));
    const { taskID } = await absurd.spawn('timeout-task', {});
    await workUntilIdle();
    assert.equal(await taskState(taskID), 'sleeping');
    await setClock('2030-04-01T00:01:01Z');
    await workUntilIdle();
    assert.match(await resultText(absurd, taskID), /"received":false,"timedOut":true,"timeoutSeconds":60/);

    const wrong = scriptedModel(callThenReport('waitForEvent', { event: 'anything' }));
    const strict = new AbsurdAgent({ id: 'strict', model: wrong, tools: { waitForEvent: waitForEventTool({ events: ['approved'] }) } }, absurd);
    absurd.registerTask({ name: 'strict-task' }, async () => ({ text: (await strict.generate({ prompt: 'go' })).text }));
    const second = await absurd.spawn('strict-task', {});
    await workUntilIdle();
    assert.match(await resultText(absurd, second.taskID), /event must be one of \\"approved\\"/);
  });

  test('bad settings are refused when the tool is built', () => {
    assert.throws(() => waitForEventTool({ events: [] }), (error: unknown) => error instanceof ConfigurationError && error.setting === 'events');
    assert.throws(() => waitForEventTool({ events: ['a'], maxTimeoutSeconds: 10, defaultTimeoutSeconds: 20 }), /larger than maxTimeoutSeconds/);
  });
});

/** Postgres: a separate process emits the event. PGlite has one owner, so a second client of it does. */
async function emitFromAnotherProcess(eventName: string, payload: JsonValue): Promise<void> {
  if (!usingPostgres) {
    const other = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: absurd.queue, log: silentLog });
    await other.emitEvent(eventName, payload);
    return;
  }
  const script = `
    import { Absurd } from ${JSON.stringify(new URL('../../src/client/absurd.ts', import.meta.url).href)};
    const absurd = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: process.env.DB, queueName: process.env.QUEUE });
    await absurd.emitEvent(process.env.EVENT, JSON.parse(process.env.PAYLOAD));
    await absurd.close();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, DB: database.url, QUEUE: absurd.queue, EVENT: eventName, PAYLOAD: JSON.stringify(payload) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(child.status, 0, child.stderr);
}

/** The `text` of a completed task's result ('' until it completed). */
async function resultText(client: { fetchTaskResult(taskID: string): Promise<unknown> }, taskID: string): Promise<string> {
  const snapshot = (await client.fetchTaskResult(taskID)) as { result?: { text?: unknown } } | null;
  return typeof snapshot?.result?.text === 'string' ? snapshot.result.text : '';
}
