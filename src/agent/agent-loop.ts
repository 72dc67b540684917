// How an AbsurdAgent run drives its inner ToolLoopAgent: generate → if the model asked for tool calls
// that need a person's approval, suspend the task until each is decided → continue with the
// decisions, as if the person had answered in place.
import type { GenerateTextResult, ModelMessage, StreamTextResult } from 'ai';
import { joinApprovalWaits } from '../approvals/approval-waits.ts';
import { awaitToolApprovals, type ToolApprovalRequest } from '../approvals/await-tool-approvals.ts';
import type { AgentRun } from './agent-run.ts';
import { enclosingScope } from './run-scope.ts';

type CallParameters = Record<string, unknown> & { abortSignal?: AbortSignal };
type AnyGenerateResult = GenerateTextResult<any, any, any>;

export interface ApprovalSettings {
  /** 'suspend' waits durably for decisions; 'return' stops with the requests, as a plain agent does. */
  readonly mode: 'suspend' | 'return';
  /** Seconds a tool call may wait before it counts as denied with reason "timed out". */
  readonly timeoutSeconds: (toolName: string) => number | undefined;
}

/**
 * Runs the agent to the end of its loop. When the run stops on tool calls that need approval, the
 * task suspends (the worker is freed) and the loop continues once every call is decided; the result
 * then covers the whole run. Runs of one task execution suspend it together: a run with undecided
 * calls waits until every other run of the execution waits too or has ended.
 */
export async function generateRun(
  run: AgentRun,
  parameters: CallParameters,
  approvals: ApprovalSettings,
): Promise<AnyGenerateResult> {
  const waits = joinApprovalWaits(run.scope.task, run.scope.prefix, enclosingScope.getStore());
  const results: AnyGenerateResult[] = [];
  const approvalMessages: ModelMessage[] = [];
  let call = parameters;
  try {
    for (;;) {
      const result = await generateOnce(run, call);
      results.push(result);
      const requests = pendingApprovalRequests(result);
      if (requests.length === 0 || approvals.mode === 'return') break;
      const responses = await awaitToolApprovals(requests, {
        toolStepName: (toolName, toolCallId) => run.scope.toolStepName(toolName, toolCallId),
        timeoutSeconds: approvals.timeoutSeconds,
        waits,
      });
      const approvalMessage: ModelMessage = { role: 'tool', content: responses };
      approvalMessages.push(approvalMessage);
      const { prompt: _prompt, messages: _messages, ...rest } = call;
      call = {
        ...rest,
        messages: [...inputMessages(call), ...result.responseMessages, approvalMessage],
      };
    }
  } finally {
    waits.leave();
  }
  return results.length === 1 ? results[0]! : combineResults(results, approvalMessages);
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

async function generateOnce(run: AgentRun, parameters: CallParameters): Promise<AnyGenerateResult> {
  let result: AnyGenerateResult;
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

/** Approval requests of the last step that wait for a person (automatic decisions already ran). */
function pendingApprovalRequests(result: AnyGenerateResult): ToolApprovalRequest[] {
  return (result.content as Array<{ type: string; isAutomatic?: boolean }>).filter(
    (part) => part.type === 'tool-approval-request' && !part.isAutomatic,
  ) as unknown as ToolApprovalRequest[];
}

/** The conversation a call started from, as messages. */
function inputMessages(call: CallParameters): ModelMessage[] {
  if (Array.isArray(call.messages)) return call.messages as ModelMessage[];
  if (Array.isArray(call.prompt)) return call.prompt as ModelMessage[];
  if (typeof call.prompt === 'string') return [{ role: 'user', content: call.prompt }];
  return [];
}

/**
 * One result for a run that was interrupted by approvals: the last segment's answer, with the
 * steps, response messages (including the decisions) and usage of every segment.
 */
function combineResults(results: AnyGenerateResult[], approvalMessages: ModelMessage[]): AnyGenerateResult {
  const last = results.at(-1)!;
  const steps = results.flatMap((result) => result.steps);
  const responseMessages = results.flatMap((result, index) => [
    ...result.responseMessages,
    ...(index < approvalMessages.length ? [approvalMessages[index]!] : []),
  ]);
  const usage = results.map((result) => result.usage).reduce((total, usage) => addUsage(total, usage));
  const overrides: Record<PropertyKey, unknown> = { steps, responseMessages, usage, totalUsage: usage };
  return new Proxy(last, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property];
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function addUsage<T>(left: T, right: T): T {
  if (typeof left === 'number' || typeof right === 'number') {
    return ((typeof left === 'number' ? left : 0) + (typeof right === 'number' ? right : 0)) as T;
  }
  if (left && right && typeof left === 'object' && typeof right === 'object') {
    const sum: Record<string, unknown> = { ...(left as object) };
    for (const [key, value] of Object.entries(right as object)) sum[key] = addUsage(sum[key], value);
    return sum as T;
  }
  return (left ?? right) as T;
}
