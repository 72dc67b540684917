// Every checkpoint name the agent layer writes is built here, so the naming scheme (and the
// guarantee that replay finds each checkpoint under the same name) lives in one place.
//
//   analyst:1                                  first run of agent "analyst" in this task execution
//   analyst:1/model:2                          its second model call
//   analyst:1/model:2/tool:weather:call-7      a tool call that model call asked for
//   analyst:1/model:0/tool:weather:call-7      a tool call carried in from the input messages (approvals)
//   analyst:1/model:2/tool:research:call-3/researcher:1/model:1
//                                              a sub-agent run inside that tool call
//   mcp:github/tools                           the tool listing of MCP client "github"
//
// Names are built from the agent's name, the number of the model call slot the run reserved (a call that
// failed before its checkpoint keeps its slot for the retry, see run-scope.ts) and the model's own tool
// call ids. They never depend on the order in which concurrent work happens to run.
import { ConfigurationError } from '../errors/configuration-error.ts';

/** The scope of one agent run: its name, the ordinal of this run, and the enclosing scope if any. */
export function agentRunScope(agentName: string, ordinal: number, parentScope?: string): string {
  const own = `${agentName}:${ordinal}`;
  return parentScope ? `${parentScope}/${own}` : own;
}

/** The scope of a durable model or durable tools used without `AbsurdAgent`. */
export function standaloneScope(name: string, parentScope?: string): string {
  return parentScope ? `${parentScope}/${name}` : name;
}

/**
 * Checkpoint of the `modelCall`-th model-call slot a scope reserved (1-based). Slots are counted when a call
 * starts, not when it completes; a retry of a call that failed before its checkpoint reuses that call's slot.
 */
export function modelCallStepName(scope: string, modelCall: number): string {
  return `${scope}/model:${modelCall}`;
}

/**
 * Checkpoint of one tool call, keyed by the id the model gave it. `modelCall` is the model call that
 * requested it (0 when it arrived in the input messages), because model ids are not unique across calls.
 */
export function toolCallStepName(scope: string, modelCall: number, toolName: string, toolCallId: string): string {
  return `${modelCallStepName(scope, modelCall)}/tool:${toolName}:${toolCallId}`;
}

/** Checkpoint of an MCP client's tool listing. */
export function mcpToolListingStepName(clientName: string, parentScope?: string): string {
  const own = `mcp:${clientName}/tools`;
  return parentScope ? `${parentScope}/${own}` : own;
}

/**
 * Checks a user-supplied name that becomes part of checkpoint names. `/` separates scopes and Absurd
 * appends `#n` to repeated names, so neither may appear in it.
 */
export function validateScopeName(name: unknown, setting: string, fix: string): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ConfigurationError({ setting, message: `A durable agent needs a name: it prefixes every checkpoint. ${fix}` });
  }
  if (/[/#]/.test(name)) {
    throw new ConfigurationError({
      setting,
      message: `The name "${name}" contains "/" or "#", which checkpoint names reserve. Choose a name without them.`,
    });
  }
  return name;
}

/**
 * Checkpoints of a tool call waiting for a person: the recorded request, the event the task
 * suspends on, and the decision that stands.
 */
export function approvalStepName(scope: string, toolCallId: string, part: 'request' | 'event' | 'decision'): string {
  return `${scope}/approval:${toolCallId}/${part}`;
}
