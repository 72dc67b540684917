// How an AbsurdAgent run drives its inner ToolLoopAgent. The loop lives here, apart from the class,
// because durable tool approvals extend it in one place: generate → if approval requests, wait for
// the decisions → continue with the approval responses.
import type { GenerateTextResult, StreamTextResult } from 'ai';
import type { AgentRun } from './agent-run.ts';

type CallParameters = Record<string, unknown> & { abortSignal?: AbortSignal };

/**
 * Runs the agent to the end of its loop. A run that stops on tool approval requests returns them in
 * the result, as a plain ToolLoopAgent does.
 */
export async function generateRun(run: AgentRun, parameters: CallParameters): Promise<GenerateTextResult<any, any, any>> {
  let result: GenerateTextResult<any, any, any>;
  try {
    result = await run.inner.generate({ ...parameters, abortSignal: run.abortSignal } as never);
  } catch (error) {
    // The loop surfaces an abort; the run's own failure is the error that explains it.
    throw run.scope.failed ? run.scope.failed.error : error;
  }
  // A stop condition can end the loop before the abort is seen: the failure still wins.
  if (run.scope.failed) throw run.scope.failed.error;
  return result;
}

/**
 * Streams the agent's loop. When the run fails (a model stream error, a cancelled task, a checkpoint
 * that cannot be written), its signal aborts the stream and every result promise rejects with that error.
 */
export async function streamRun(run: AgentRun, parameters: CallParameters): Promise<StreamTextResult<any, any, any>> {
  const result = await run.inner.stream({ ...parameters, abortSignal: run.abortSignal } as never);
  if (run.scope.failed) throw run.scope.failed.error;
  return result;
}
