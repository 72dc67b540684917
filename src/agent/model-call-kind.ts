// A model call checkpoint holds either a `doGenerate` result or the parts of a `doStream`, and one kind
// cannot stand in for the other. When a run switched between generate() and stream() between attempts,
// the request (and so its fingerprint) can be identical: the kind of call is what differs.
import { ReplayDivergenceError } from '../errors/replay-divergence-error.ts';
import type { ModelCallCheckpoint } from './checkpoint-format.ts';
import type { ModelCallSlot, RunScope } from './run-scope.ts';

const methodOf = { generate: 'generate()', stream: 'stream()' } as const;

/**
 * Ends the run with a ReplayDivergenceError naming both kinds when the recorded model call is of the
 * other kind than `call`, whatever the divergence policy: the recorded response has the wrong shape.
 */
export function checkRecordedCallKind(scope: RunScope, slot: ModelCallSlot, call: 'generate' | 'stream'): void {
  const record = slot.handle.state as Partial<ModelCallCheckpoint> | null;
  if (record?.kind !== 'model-call' || (record.call !== 'generate' && record.call !== 'stream') || record.call === call) return;
  const error = new ReplayDivergenceError({
    taskID: scope.task.taskID,
    stepName: slot.stepName,
    expected: slot.fingerprint,
    recorded: typeof record.fingerprint === 'string' ? record.fingerprint : 'none',
    detail:
      `the recorded call was ${methodOf[record.call]}, this call is ${methodOf[call]}: the run switched between ` +
      `generate()/generateText and stream()/streamText between attempts`,
  });
  scope.fail(error);
  throw error;
}
