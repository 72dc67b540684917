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
import { ConfigurationError } from '../errors/configuration-error.ts';
import { generateRun, streamRun } from './agent-loop.ts';
import { startAgentRun } from './agent-run.ts';
import type { ReplayDivergencePolicy } from './run-scope.ts';
import { validateScopeName } from './step-names.ts';

export interface DurableAgentOptions {
  /**
   * What happens when a replayed model call or tool call differs from its checkpoint (the prompt,
   * tools, model or settings changed between attempts): throw ReplayDivergenceError ('error', the
   * default), log and use the checkpoint ('warn'), or use it silently ('ignore').
   */
  readonly replayDivergence?: ReplayDivergencePolicy;
  /** Largest checkpoint in bytes of JSON (default 8 MiB). */
  readonly maxCheckpointBytes?: number;
}

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
  private readonly durable: { replayDivergence: ReplayDivergencePolicy; maxCheckpointBytes: number | undefined };

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
    const { replayDivergence = 'error', maxCheckpointBytes, ...agentSettings } = settings;
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
      return generateRun(run, parameters as never) as Promise<GenerateTextResult<TOOLS, RUNTIME_CONTEXT, OUTPUT>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Streams the agent inside the current Absurd task; replayed steps are re-emitted from their checkpoints. */
  stream(
    parameters: AgentStreamParameters<CALL_OPTIONS, TOOLS, RUNTIME_CONTEXT>,
  ): Promise<StreamTextResult<TOOLS, RUNTIME_CONTEXT, OUTPUT>> {
    try {
      const run = this.start(parameters.abortSignal, 'stream');
      return streamRun(run, parameters as never) as Promise<StreamTextResult<TOOLS, RUNTIME_CONTEXT, OUTPUT>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private start(callerSignal: AbortSignal | undefined, method: 'generate' | 'stream') {
    return startAgentRun({
      name: this.name,
      settings: this.settings as Parameters<typeof startAgentRun>[0]['settings'],
      durable: this.durable,
      callerSignal,
      operation: `AbsurdAgent "${this.name}".${method}()`,
    });
  }
}
