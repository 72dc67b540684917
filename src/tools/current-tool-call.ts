// What a tool that suspends its task needs to know about the durable tool call it runs in: the task,
// and the call's checkpoint name, from which its own checkpoint names are derived.
import { getCurrentTask, type CurrentTask } from '../client/current-task.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { NotInTaskError } from '../errors/not-in-task-error.ts';
import { enclosingScope } from '../agent/run-scope.ts';

export interface CurrentToolCall {
  readonly task: CurrentTask;
  /** The checkpoint name of the durable tool call whose `execute` is running. */
  readonly stepName: string;
}

/**
 * The durable tool call running in this async context. A tool that suspends must run inside one, so
 * that its checkpoints are named after the call and its result is recorded once it resumes.
 */
export function currentToolCall(toolKind: string): CurrentToolCall {
  const task = getCurrentTask();
  if (!task) throw new NotInTaskError({ operation: `${toolKind}.execute()` });
  const stepName = enclosingScope.getStore();
  if (stepName === undefined) {
    throw new ConfigurationError({
      setting: 'tools',
      message:
        `${toolKind} ran without a durable tool call around it, so its wait could not be resumed. ` +
        'Give it to an AbsurdAgent, or wrap it with durableTools() before passing it to generateText/streamText.',
    });
  }
  return { task, stepName };
}
