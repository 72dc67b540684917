// Bad-input catalogue: a checkpoint written by an incompatible codec version (a newer release on
// another worker, or an older one whose tasks were left running over an upgrade). The replay refuses
// it with a CheckpointCodecError that names the checkpoint, both versions and what to do, and leaves
// every stored checkpoint as it was.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CheckpointCodecError } from '../../src/errors/checkpoint-codec-error.ts';
import { startCatalogueHarness, taskCheckpoints, type CatalogueHarness } from './agent-catalogue-harness.ts';
import { clearError } from './stored-state.ts';

describe('bad input: a checkpoint from an incompatible codec version', () => {
  let harness: CatalogueHarness;
  before(async () => {
    harness = await startCatalogueHarness();
  });
  after(async () => {
    await harness?.close();
  });

  const cases: ReadonlyArray<[string, number, RegExp]> = [
    ['a newer release', 99, /A newer release wrote it: run the same ai-sdk-absurd version on every worker of this queue/],
    ['an older release', 0, /Finish or cancel tasks started by the older release before upgrading/],
  ];

  for (const [who, version, advice] of cases) {
    test(`a model checkpoint written by ${who} is refused on replay and kept as stored`, async () => {
      let rewritten: Map<string, string> | undefined;
      const run = await harness.run(`codec ${version}`, () => ({ figure: 42 }), {
        crashAfterRun: true,
        // Between the attempts, the first model call's envelope (stored as JSON text) is marked as written
        // by another codec version.
        beforeRetry: async (taskID) => {
          const { rows } = await harness.database.query<{ codec: number }>(
            `update absurd."c_${harness.queueName}"
                set state = jsonb_set(state, '{response}', to_jsonb(replace(state->>'response', '{"codec":1,', $2)))
              where task_id = $1 and checkpoint_name = 'catalogue:1/model:1'
             returning ((state->>'response')::jsonb->>'codec')::int as codec`,
            [taskID, `{"codec":${version},`],
          );
          assert.deepEqual(rows, [{ codec: version }], 'the envelope was rewritten');
          rewritten = await taskCheckpoints(harness, taskID);
        },
      });
      assert.equal(run.errors[0], undefined, 'the first attempt ran normally');
      clearError(
        CheckpointCodecError,
        /Checkpoint "catalogue:1\/model:1"/,
        new RegExp(`written with checkpoint codec version ${version}, but this release of ai-sdk-absurd reads version 1`),
        advice,
      )(run.errors[1]);
      assert.equal(run.executions, 1, 'the tool did not run again');
      assert.equal((await harness.absurd.fetchTaskResult(run.taskID))?.state, 'failed');
      assert.deepEqual(await taskCheckpoints(harness, run.taskID), rewritten, 'the refused replay changed stored checkpoints');
    });
  }
});
