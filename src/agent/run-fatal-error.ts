// Errors that end an agent run instead of becoming a tool error the model can read: Absurd's
// control flow (suspend, cancel, already failed) and this library's own durability errors.
import { CancelledTask, FailedTask, SuspendTask } from 'absurd-sdk';
import { CheckpointCodecError } from '../errors/checkpoint-codec-error.ts';
import { CheckpointSizeError } from '../errors/checkpoint-size-error.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import { ReplayDivergenceError } from '../errors/replay-divergence-error.ts';
import { SubAgentError } from '../errors/sub-agent-error.ts';

/** Absurd's signals that the task must stop running now (it is neither completed nor failed). */
export function isAbsurdControlFlow(error: unknown): boolean {
  return error instanceof SuspendTask || error instanceof CancelledTask || error instanceof FailedTask;
}

/**
 * True for errors that must stop the run and reach the task handler unchanged. The AI SDK turns any
 * error a tool throws into a tool result, so the durable tool wrapper stashes these and aborts the run.
 * Each class's `isInstance` also recognises errors from a second copy of this package.
 */
export function isRunFatalError(error: unknown): boolean {
  if (isAbsurdControlFlow(error)) return true;
  return (
    CheckpointCodecError.isInstance(error) ||
    CheckpointSizeError.isInstance(error) ||
    ReplayDivergenceError.isInstance(error) ||
    NotInTaskError.isInstance(error) ||
    // A sub-agent's failure is the parent's tool error unless the tool was told to fail the parent.
    (SubAgentError.isInstance(error) && error.failsParent)
  );
}
