// A durable AI SDK agent: the settings of a ToolLoopAgent, run inside an Absurd task, with every
// model call and tool call checkpointed so that a crashed run resumes without repeating them.
import type {
  Agent,
  AgentCallParameters,
  AgentStreamParameters,
  GenerateTextResult,
  OutputInterface as Output,
  StreamTextResult,
  ToolLoopAgentSettings,
} from 'ai';
import type { Context, ToolSet } from '@ai-sdk/provider-utils';
import type { Absurd } from '../client/absurd.ts';
import { getCurrentTask } from '../client/current-task.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import {
  publishAgentStream,
  taskStreamPublisher,
  type DurableStreamOptions,
  type DurableStreamSetting,
} from '../streams/publish-agent-stream.ts';
import { generateRun, streamRun, type ApprovalSettings } from './agent-loop.ts';
import { startAgentRun } from './agent-run.ts';
import type { ReplayDivergencePolicy } from './run-scope.ts';
import { validateScopeName } from '../steps/step-names.ts';
import { enterInFlight } from './task-heartbeat.ts';
import { budgetPolicy, type AgentBudget, type BudgetPolicy } from '../usage/agent-budget.ts';

export interface DurableAgentOptions {
  /**
   * What happens when a replayed model call or tool call differs from its checkpoint (the prompt,
   * tools, model or settings changed between attempts): throw ReplayDivergenceError ('error', the
   * default), log and use the checkpoint ('warn'), or use it silently ('ignore').
   */
  readonly replayDivergence?: ReplayDivergencePolicy;
  /** Largest checkpoint in bytes of JSON (default 8 MiB). */
  readonly maxCheckpointBytes?: number;
  /**
   * Tool calls that need approval (`needsApproval`, `toolApproval`): 'suspend' (the default) records
   * the request, suspends the task until a person decides with `absurd.approveToolCall()`, and
   * continues the run; 'return' ends the run with the requests, as a plain ToolLoopAgent does.
   */
  readonly approvals?: 'suspend' | 'return';
  /**
   * Seconds a tool call may wait for a decision before it counts as denied with reason "timed out":
   * one number for every tool, or `{ default, tools: { toolName: seconds } }`. Unset waits forever.
   */
  readonly approvalTimeout?: number | { readonly default?: number; readonly tools?: Readonly<Record<string, number>> };
  /**
   * Whether `stream()` writes the UI message chunks of `toUIMessageStream()` to the task's durable stream
   * as they are produced (docs/streaming.md): `true` (the default), `false`, or the `toUIMessageStream()`
   * options that shape them. A call's own `durableStream` parameter overrides it.
   */
  readonly durableStream?: DurableStreamSetting;
  /**
   * A spend limit (total tokens, and cost with prices) checked before each live model call, counting every
   * attempt of the task and every sub-agent child: at the limit the run fails with BudgetExceededError, or
   * with `onExceeded: 'suspend'` waits for a person to raise it (docs/usage-and-views.md).
   *
   * @example
   * ```ts
   * new AbsurdAgent({ id: 'researcher', model, budget: { tokens: 200_000, onExceeded: 'suspend' } }, absurd);
   * ```
   */
  readonly budget?: AgentBudget;
}

/** The parameters of `AbsurdAgent.stream()`: those of a ToolLoopAgent, and whether this call publishes. */
export type AbsurdAgentStreamParameters<CALL_OPTIONS, TOOLS extends ToolSet, RUNTIME_CONTEXT extends Context> = AgentStreamParameters<
  CALL_OPTIONS,
  TOOLS,
  RUNTIME_CONTEXT
> & {
  /** Overrides the agent's `durableStream` setting for this call. */
  readonly durableStream?: DurableStreamSetting;
};

export type AbsurdAgentSettings<
  CALL_OPTIONS = never,
  TOOLS extends ToolSet = {},
  RUNTIME_CONTEXT extends Context = Context,
  OUTPUT extends Output = never,
> = ToolLoopAgentSettings<CALL_OPTIONS, TOOLS, RUNTIME_CONTEXT, OUTPUT> & DurableAgentOptions;

/**
 * Takes the settings of a `ToolLoopAgent` and runs them durably inside Absurd tasks. `generate` and
 * `stream` must be called inside a task handler; each call is one run whose checkpoints are named
 * after the agent's `name` (third argument) or, failing that, its `id`.
 */
export class AbsurdAgent<
  CALL_OPTIONS = never,
  TOOLS extends ToolSet = {},
  RUNTIME_CONTEXT extends Context = Context,
  OUTPUT extends Output = never,
> implements Agent<CALL_OPTIONS, TOOLS, RUNTIME_CONTEXT, OUTPUT>
{
  readonly version = 'agent-v1';
  /** Prefix of every checkpoint this agent writes. */
  readonly name: string;
  /** The client whose tasks run this agent. */
  readonly absurd: Absurd;
  private readonly settings: ToolLoopAgentSettings<CALL_OPTIONS, TOOLS, RUNTIME_CONTEXT, OUTPUT>;
  private readonly approvals: ApprovalSettings;
  private readonly durable: { replayDivergence: ReplayDivergencePolicy; maxCheckpointBytes: number | undefined };
  private readonly durableStream: DurableStreamSetting;
  private readonly budget: BudgetPolicy | undefined;

  constructor(
    settings: AbsurdAgentSettings<CALL_OPTIONS, TOOLS, RUNTIME_CONTEXT, OUTPUT>,
    absurd: Absurd,
    options: { readonly name?: string } = {},
  ) {
    if (absurd === null || typeof absurd !== 'object' || typeof (absurd as Partial<Absurd>).registerTask !== 'function') {
      throw new ConfigurationError({
        setting: 'absurd',
        message: 'new AbsurdAgent(settings, absurd) needs the Absurd client as its second argument: new AbsurdAgent(settings, new Absurd({ db })).',
      });
    }
    const {
      replayDivergence = 'error',
      maxCheckpointBytes,
      approvals = 'suspend',
      approvalTimeout,
      durableStream = true,
      budget,
      ...agentSettings
    } = settings;
    this.durableStream = validateDurableStream(durableStream, 'durableStream');
    if (approvals !== 'suspend' && approvals !== 'return') {
      throw new ConfigurationError({
        setting: 'approvals',
        message: `approvals must be 'suspend' or 'return', not ${JSON.stringify(approvals)}.`,
      });
    }
    this.approvals = { mode: approvals, timeoutSeconds: approvalTimeoutLookup(approvalTimeout) };
    if (!['error', 'warn', 'ignore'].includes(replayDivergence)) {
      throw new ConfigurationError({
        setting: 'replayDivergence',
        message: `replayDivergence must be 'error', 'warn' or 'ignore', not ${JSON.stringify(replayDivergence)}.`,
      });
    }
    this.name = validateScopeName(
      options.name ?? settings.id,
      'name',
      'Give the agent a stable name: new AbsurdAgent(settings, absurd, { name: "analyst" }), or set id in its settings. ' +
        'Renaming an agent later orphans the checkpoints of its unfinished tasks.',
    );
    this.absurd = absurd;
    this.settings = agentSettings as ToolLoopAgentSettings<CALL_OPTIONS, TOOLS, RUNTIME_CONTEXT, OUTPUT>;
    this.durable = { replayDivergence, maxCheckpointBytes };
    this.budget = budgetPolicy(budget);
  }

  get id(): string | undefined {
    return this.settings.id;
  }

  get tools(): TOOLS {
    return this.settings.tools as TOOLS;
  }

  /** Runs the agent to completion inside the current Absurd task, replaying what earlier attempts recorded. */
  generate(
    parameters: AgentCallParameters<CALL_OPTIONS, TOOLS, RUNTIME_CONTEXT>,
  ): Promise<GenerateTextResult<TOOLS, RUNTIME_CONTEXT, OUTPUT>> {
    try {
      const run = this.start(parameters.abortSignal, 'generate');
      return generateRun(run, parameters as never, this.approvals) as Promise<GenerateTextResult<TOOLS, RUNTIME_CONTEXT, OUTPUT>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Streams the agent inside the current Absurd task; replayed steps are re-emitted from their checkpoints.
   * Unless `durableStream` is false, the UI message chunks are also written to the task's durable stream,
   * once across attempts, and the result's promises settle once they are stored.
   *
   * @example
   * absurd.registerTask({ name: 'chat' }, async (params: { prompt: string }) => {
   *   const result = await agent.stream({ prompt: params.prompt }); // readers follow absurd.readStream(taskID)
   *   return { text: await result.text };
   * });
   */
  stream(
    parameters: AbsurdAgentStreamParameters<CALL_OPTIONS, TOOLS, RUNTIME_CONTEXT>,
  ): Promise<StreamTextResult<TOOLS, RUNTIME_CONTEXT, OUTPUT>> {
    try {
      const { durableStream: callSetting, ...callParameters } = parameters;
      const setting = callSetting === undefined ? this.durableStream : validateDurableStream(callSetting, 'stream({ durableStream })');
      const run = this.start(parameters.abortSignal, 'stream');
      // A nested agent's answer reaches the stream as its tool's output; its own chunks would break the message.
      if (setting === false || run.nested) {
        return streamRun(run, callParameters as never) as Promise<StreamTextResult<TOOLS, RUNTIME_CONTEXT, OUTPUT>>;
      }
      const publisher = taskStreamPublisher(run.task);
      const settings: DurableStreamOptions = setting === true ? {} : setting;
      return streamRun(run, callParameters as never).then((result) =>
        publishAgentStream(result, { publisher, run: run.scope, settings, holdLease: () => enterInFlight(run.task) }),
      ) as Promise<StreamTextResult<TOOLS, RUNTIME_CONTEXT, OUTPUT>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private start(callerSignal: AbortSignal | undefined, method: 'generate' | 'stream') {
    const task = getCurrentTask();
    if (task && task.absurd !== this.absurd) {
      throw new ConfigurationError({
        setting: 'absurd',
        message:
          `AbsurdAgent "${this.name}" was built with another Absurd client than the one whose worker runs this task ` +
          `(queue "${task.queueName}"). Build the agent with the client that registers and works the task: new AbsurdAgent(settings, absurd).`,
      });
    }
    return startAgentRun({
      name: this.name,
      settings: this.settings as Parameters<typeof startAgentRun>[0]['settings'],
      durable: this.durable,
      callerSignal,
      operation: `AbsurdAgent "${this.name}".${method}()`,
      ...(this.budget ? { budget: this.budget } : {}),
    });
  }
}

function validateDurableStream(setting: unknown, where: string): DurableStreamSetting {
  if (typeof setting === 'boolean' || (setting !== null && typeof setting === 'object' && !Array.isArray(setting))) {
    return setting as DurableStreamSetting;
  }
  throw new ConfigurationError({
    setting: 'durableStream',
    message: `${where} must be true, false or an object of toUIMessageStream() options, not ${JSON.stringify(setting) ?? String(setting)}.`,
  });
}

function approvalTimeoutLookup(timeout: DurableAgentOptions['approvalTimeout']): (toolName: string) => number | undefined {
  const check = (seconds: unknown, where: string) => {
    if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)) {
      throw new ConfigurationError({
        setting: 'approvalTimeout',
        message: `approvalTimeout${where} must be a number of seconds >= 0, not ${JSON.stringify(seconds)}.`,
      });
    }
    return seconds as number | undefined;
  };
  if (timeout === undefined || typeof timeout === 'number') {
    const seconds = check(timeout, '');
    return () => seconds;
  }
  const fallback = check(timeout.default, '.default');
  const perTool = new Map(Object.entries(timeout.tools ?? {}).map(([name, seconds]) => [name, check(seconds, `.tools.${name}`)]));
  return (toolName) => (perTool.has(toolName) ? perTool.get(toolName) : fallback);
}
