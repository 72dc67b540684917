// The chaos checks must be able to fail: each broken promise, recorded by hand, is reported as a
// violation, and each repetition that a kill or a database outage explains is counted instead.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyseChaos, findViolations, type ChaosRecords } from './chaos-findings.ts';
import { chaosTaskParams } from './chaos-scenario.ts';

// Task 0 asks about Q1 only: one getRevenue call and one recordNote call.
function cleanRun(): ChaosRecords {
  const params = [chaosTaskParams(0, false)];
  return {
    taskIDs: ['task-a'],
    params,
    expected: new Map([[params[0]!.prompt, 'Report for Q1.']]),
    effects: [
      { taskID: 'task-a', toolName: 'getRevenue', toolCallId: 'call-1', pid: 100, at: 1_000 },
      { taskID: 'task-a', toolName: 'recordNote', toolCallId: 'call-2', pid: 100, at: 1_010 },
    ],
    killedPids: new Set(),
    disruptions: [],
    requests: [
      { arrivedAt: 900, completed: true, responseId: 'chatcmpl-one', key: 'chat\none' },
      { arrivedAt: 1_005, completed: true, responseId: 'chatcmpl-two', key: 'chat\ntwo' },
    ],
    tasks: [{ task_id: 'task-a', state: 'completed', completed_payload: { text: 'Report for Q1.' } }],
    checkpoints: [
      { state: '{"response":"{\\"id\\":\\"chatcmpl-one\\"}"}', written_at: 950 },
      { state: '{"response":"{\\"id\\":\\"chatcmpl-two\\"}"}', written_at: 1_008 },
    ],
  };
}

describe('chaos findings', () => {
  test('a clean run has no violations', () => {
    assert.deepEqual(findViolations(analyseChaos(cleanRun())), []);
  });

  test('a task that did not complete is lost', () => {
    const run = cleanRun();
    run.tasks = [{ task_id: 'task-a', state: 'running', completed_payload: null }];
    assert.match(findViolations(analyseChaos(run)).join('\n'), /tasks lost \(1\): task-a \(running\)/);
  });

  test('a completed task with another output has the wrong output', () => {
    const run = cleanRun();
    run.tasks = [{ task_id: 'task-a', state: 'completed', completed_payload: { text: 'Report for Q2.' } }];
    assert.match(findViolations(analyseChaos(run)).join('\n'), /tasks with the wrong output \(1\)/);
  });

  test('a tool that ran twice in live workers is a violation; after a kill it is counted', () => {
    const run = cleanRun();
    run.effects.push({ taskID: 'task-a', toolName: 'getRevenue', toolCallId: 'call-1', pid: 200, at: 2_000 });
    assert.match(findViolations(analyseChaos(run)).join('\n'), /tool side effects repeated by a live worker \(1\)/);
    run.killedPids.add(100);
    const findings = analyseChaos(run);
    assert.deepEqual(findViolations(findings), []);
    assert.equal(findings.cutInsideTool, 1);
  });

  test('a repetition during a database outage is counted, not a violation', () => {
    const run = cleanRun();
    run.effects.push({ taskID: 'task-a', toolName: 'getRevenue', toolCallId: 'call-1', pid: 100, at: 3_000 });
    run.disruptions.push({ from: 1_500, to: 2_500 });
    const findings = analyseChaos(run);
    assert.deepEqual(findViolations(findings), []);
    assert.equal(findings.cutByDisruption, 1);
  });

  test('a tool call that never ran is reported', () => {
    const run = cleanRun();
    run.effects.pop();
    assert.match(findViolations(analyseChaos(run)).join('\n'), /tasks whose tool calls did not all run \(1\): task-a: 1 tool calls ran, 2 expected/);
  });

  test('a model request after its answer was checkpointed is a violation; before, it is counted', () => {
    const run = cleanRun();
    run.requests.push({ arrivedAt: 940, completed: true, responseId: 'chatcmpl-one', key: 'chat\none' });
    const before = analyseChaos(run);
    assert.deepEqual(findViolations(before), []);
    assert.equal(before.reaskedAfterKill, 1);
    run.requests.push({ arrivedAt: 1_200, completed: true, responseId: 'chatcmpl-one', key: 'chat\none' });
    assert.match(findViolations(analyseChaos(run)).join('\n'), /model requests repeated after their answer was checkpointed \(1\)/);
  });
});
