import { AiSdkAbsurdError } from './ai-sdk-absurd-error.ts';

/**
 * Raised when a checkpoint recorded by an earlier attempt does not match the call now being made
 * (the prompt, tools, model or settings changed between attempts, or calls ran in another order).
 */
export class ReplayDivergenceError extends AiSdkAbsurdError {
  static readonly errorName = 'AiSdkAbsurdReplayDivergenceError';
  readonly taskID: string;
  readonly stepName: string;
  readonly expected: string;
  readonly recorded: string;

  constructor(options: { taskID: string; stepName: string; expected: string; recorded: string; detail?: string }) {
    const difference = options.detail ?? 'the recorded call differs from the call being made now';
    // Equal fingerprints mean the request is the same and something else (the kind of call) differs.
    const fingerprints =
      options.expected === options.recorded
        ? `the request itself is unchanged, fingerprint ${options.expected}`
        : `recorded fingerprint ${options.recorded}, this call's fingerprint ${options.expected}`;
    super({
      name: ReplayDivergenceError.errorName,
      message:
        `Replay diverged at checkpoint "${options.stepName}" of task ${options.taskID}: ${difference} (${fingerprints}). ` +
        `The agent's prompt, tools, model, settings or call order changed between attempts. ` +
        `Keep task code deterministic, spawn a new task for the new code, or set replayDivergence: 'warn' | 'ignore'.`,
    });
    this.taskID = options.taskID;
    this.stepName = options.stepName;
    this.expected = options.expected;
    this.recorded = options.recorded;
  }
}
