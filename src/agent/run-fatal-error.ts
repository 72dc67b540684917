// Errors that end an agent run instead of becoming a tool error the model can read: Absurd's
// control flow (suspend, cancel, already failed) and this library's own durability errors.
import { CancelledTask, FailedTask, SuspendTask } from 'absurd-sdk';
import { AiSdkAbsurdError } from '../errors/ai-sdk-absurd-error.ts';

/** Absurd's signals that the task must stop running now (it is neither completed nor failed). */
export function isAbsurdControlFlow(error: unknown): boolean {
  return error instanceof SuspendTask || error instanceof CancelledTask || error instanceof FailedTask;
}

// Matched by name through the marker check, so a second copy of this package is recognised too.
const fatalErrorNames = new Set([
  'AiSdkAbsurdCheckpointCodecError',
  'AiSdkAbsurdCheckpointSizeError',
  'AiSdkAbsurdReplayDivergenceError',
  'AiSdkAbsurdNotInTaskError',
]);

/**
 * True for errors that must stop the run and reach the task handler unchanged. The AI SDK turns any
 * error a tool throws into a tool result, so the durable tool wrapper stashes these and aborts the run.
 */
export function isRunFatalError(error: unknown): boolean {
  if (isAbsurdControlFlow(error)) return true;
  return AiSdkAbsurdError.isInstance(error) && fatalErrorNames.has(error.name);
}
