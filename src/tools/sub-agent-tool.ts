// An AbsurdAgent as a tool of another agent, run as a child Absurd task: spawned once per tool call
// (idempotently), while the parent suspends until the database tells it the child finished. The
// child's answer is the tool result; its failure or cancellation is the tool's error. With forwardStream,
// the child's durable stream is also forwarded into the parent's (sub-agent-stream-forwarding.ts).
import { jsonSchema, tool, type FlexibleSchema, type Tool } from 'ai';
import type { Absurd } from '../client/absurd.ts';
import type { CurrentTask } from '../client/current-task.ts';
import { validatePayload } from '../client/validate-payload.ts';
import { validateQueueName } from '../client/queue-name.ts';
import type { Database } from '../db/database.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { SubAgentError } from '../errors/sub-agent-error.ts';
import { currentToolCall } from './current-tool-call.ts';
import { beforeWaiting, waitInTurn } from '../client/suspension-gate.ts';
import { recordOnce } from './task-clock.ts';
import { forwardChildStream, forwardingWhile, type StreamForwarding } from './sub-agent-stream-forwarding.ts';

export interface SubAgentToolOptions<INPUT> {
  /** What the parent's model reads about this sub-agent. */
  readonly description: string;
  /** The tool's input; default `{ prompt: string }`. */
  readonly inputSchema?: FlexibleSchema<INPUT>;
  /** The child agent's prompt for an input; default: `input.prompt` when it is a string, else the input as JSON. */
  readonly prompt?: (input: INPUT) => string;
  /** The queue the child tasks run on; default: the queue of the agent's client. */
  readonly queue?: string;
  /** The name the child task is registered under; default `sub-agent:<agent name>`. */
  readonly taskName?: string;
  /** A failed or cancelled child: the parent's model reads the error (default), or the parent run fails. */
  readonly onChildFailure?: 'tool-error' | 'fail-parent';
  /** Attempts of each child task (default: the client's default). */
  readonly maxAttempts?: number;
  /**
   * `true`: the child runs the agent's `stream()`, and its durable stream is forwarded into the parent's
   * durable stream as `data-sub-agent` parts while it runs, each chunk once. Default `false`: the child runs
   * `generate()` and the parent's stream shows only the tool call and its result.
   */
  readonly forwardStream?: boolean;
}

/** What the parent's model reads when the child completed. */
export interface SubAgentToolResult {
  readonly taskID: string;
  readonly text: string;
}

interface SpawnedChild {
  readonly taskID: string;
  readonly queue: string;
  readonly eventName: string;
}

interface ChildOutcome {
  readonly taskID: string;
  readonly state: 'completed' | 'failed' | 'cancelled';
  readonly result: { text?: unknown } | null;
  readonly failure: unknown;
}

/** What `subAgentTool` needs of an `AbsurdAgent`: its name, its client, and a way to run it on a prompt. */
export interface SubAgent {
  readonly name: string;
  readonly absurd: Absurd;
  generate(parameters: { prompt: string }): PromiseLike<{ readonly text: string }>;
  /** Needed with `forwardStream: true`. */
  stream?(parameters: { prompt: string }): PromiseLike<{ readonly text: PromiseLike<string> }>;
}

/** The params of a child task: its prompt, and where its stream is forwarded to (with `forwardStream`). */
interface ChildParams {
  readonly prompt: string;
  readonly forwardTo?: StreamForwarding;
}

const defaultInputSchema = jsonSchema<{ prompt: string }>({
  type: 'object',
  properties: { prompt: { type: 'string', description: 'What the sub-agent should do.' } },
  required: ['prompt'],
  additionalProperties: false,
});

/**
 * Turns `agent` into a tool whose every call runs the agent as a child task. Create it where the worker
 * code is loaded (it registers the child task on the agent's client), and run a worker for `queue`.
 *
 * @example
 * ```ts
 * const researcher = new AbsurdAgent({ id: 'researcher', model, tools: { search } }, absurd);
 * const research = subAgentTool(researcher, { description: 'Research one question in depth.' });
 * const lead = new AbsurdAgent({ id: 'lead', model, tools: { research } }, absurd);
 * ```
 */
export function subAgentTool<INPUT = { prompt: string }>(
  agent: SubAgent,
  options: SubAgentToolOptions<INPUT>,
): Tool<INPUT, SubAgentToolResult> {
  if (!options || typeof options.description !== 'string' || options.description.trim() === '') {
    throw new ConfigurationError({
      setting: 'description',
      message: `subAgentTool(${agent?.name ?? 'agent'}, { description }) needs a description the parent's model reads, e.g. "Research one question in depth."`,
    });
  }
  const onChildFailure = options.onChildFailure ?? 'tool-error';
  if (onChildFailure !== 'tool-error' && onChildFailure !== 'fail-parent') {
    throw new ConfigurationError({
      setting: 'onChildFailure',
      message: `onChildFailure must be 'tool-error' or 'fail-parent', not ${JSON.stringify(onChildFailure)}.`,
    });
  }
  if (options.maxAttempts !== undefined && !(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)) {
    throw new ConfigurationError({
      setting: 'maxAttempts',
      message: `subAgentTool: maxAttempts must be a whole number of 1 or more, not ${JSON.stringify(options.maxAttempts)}.`,
    });
  }
  const forwardStream = options.forwardStream ?? false;
  if (typeof forwardStream !== 'boolean' || (forwardStream && typeof agent.stream !== 'function')) {
    throw new ConfigurationError({
      setting: 'forwardStream',
      message:
        typeof forwardStream !== 'boolean'
          ? `subAgentTool: forwardStream must be true or false, not ${JSON.stringify(forwardStream)}.`
          : `subAgentTool(${agent.name}, { forwardStream: true }) needs an agent with a stream() method, such as an AbsurdAgent.`,
    });
  }
  const absurd = agent.absurd;
  const queue = validateQueueName(options.queue ?? absurd.queue);
  const taskName = options.taskName ?? `sub-agent:${agent.name}`;
  const toPrompt = options.prompt ?? defaultPrompt;
  absurd.registerTask({ name: taskName, queue }, async (params: ChildParams, ctx) => {
    if (!params.forwardTo || !agent.stream) return { text: (await agent.generate({ prompt: params.prompt })).text };
    const stream = agent.stream.bind(agent);
    const child = { queue, taskID: ctx.taskID };
    return forwardingWhile(absurd.database, params.forwardTo, child, async () => {
      const result = await stream({ prompt: params.prompt });
      return { text: await result.text };
    });
  });

  return tool({
    description: options.description,
    inputSchema: (options.inputSchema ?? defaultInputSchema) as FlexibleSchema<INPUT>,
    async execute(input: INPUT, { toolCallId }): Promise<SubAgentToolResult> {
      const call = currentToolCall('subAgentTool');
      const forwardTo: StreamForwarding | undefined = forwardStream
        ? { parentQueue: call.task.queueName, parentTaskID: call.task.taskID, toolCallId, agent: agent.name }
        : undefined;
      const params: ChildParams = { prompt: toPrompt(input), ...(forwardTo ? { forwardTo } : {}) };
      const child = await beforeWaiting(call.task, () =>
        recordOnce(call.task, `${call.stepName}:child`, () =>
          spawnChild(call.task, call.stepName, { queue, taskName, params, maxAttempts: options.maxAttempts }),
        ),
      );
      const outcome = (await waitInTurn<unknown>(
        call.task,
        () => call.task.ctx.awaitEvent(child.eventName, { stepName: `${call.stepName}:child-finished` }),
        call.stepName,
      )) as ChildOutcome;
      // What the child wrote after its last forward (or all of it, when it ended without running), and how it ended.
      if (forwardTo) await forwardChildStream(call.task.absurd.database, forwardTo, child, outcome.state);
      if (outcome.state === 'completed') return { taskID: child.taskID, text: String(outcome.result?.text ?? '') };
      throw new SubAgentError({
        childTaskID: child.taskID,
        childQueue: child.queue,
        state: outcome.state,
        failure: outcome.failure ?? null,
        failsParent: onChildFailure === 'fail-parent',
        message:
          outcome.state === 'cancelled'
            ? `Sub-agent task ${child.taskID} ("${taskName}", queue "${child.queue}") was cancelled before it finished.`
            : `Sub-agent task ${child.taskID} ("${taskName}", queue "${child.queue}") failed: ${failureMessage(outcome.failure)}`,
      });
    },
  }) as Tool<INPUT, SubAgentToolResult>;
}

function defaultPrompt(input: unknown): string {
  const prompt = (input as { prompt?: unknown } | null)?.prompt;
  return typeof prompt === 'string' ? prompt : JSON.stringify(input);
}

function failureMessage(failure: unknown): string {
  const message = (failure as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : JSON.stringify(failure ?? 'no reason recorded');
}

const lineageReady = new WeakMap<Database, Set<string>>();

/** Spawns the child and records its lineage in one transaction; a second call for the same tool call finds the same child. */
async function spawnChild(
  task: CurrentTask,
  stepName: string,
  child: { queue: string; taskName: string; params: ChildParams; maxAttempts: number | undefined },
): Promise<SpawnedChild> {
  const database = task.absurd.database;
  const params = child.params;
  validatePayload(params, { subject: 'The sub-agent prompt' });
  await ensureLineage(database, [task.queueName, child.queue]);
  const idempotencyKey = `ai-sdk-absurd:sub-agent:${task.taskID}:${stepName}`;
  const spawnOptions = { idempotency_key: idempotencyKey, ...(child.maxAttempts ? { max_attempts: child.maxAttempts } : {}) };
  return database.transaction(async (transaction) => {
    const { rows } = await transaction.query<{ task_id: string }>(
      'select task_id::text from absurd.spawn_task($1, $2, $3::jsonb, $4::jsonb)',
      [child.queue, child.taskName, JSON.stringify(params), JSON.stringify(spawnOptions)],
    );
    const taskID = rows[0]!.task_id;
    const eventName = `ai-sdk-absurd:child-finished:${taskID}`;
    await transaction.query(
      `insert into ai_sdk_absurd.task_children (child_queue, child_task_id, parent_queue, parent_task_id, tool_call_step, event_name)
       values ($1, $2::uuid, $3, $4::uuid, $5, $6)
       on conflict (child_queue, child_task_id) do nothing`,
      [child.queue, taskID, task.queueName, task.taskID, stepName, eventName],
    );
    return { taskID, queue: child.queue, eventName };
  });
}

async function ensureLineage(database: Database, queues: readonly string[]): Promise<void> {
  let ready = lineageReady.get(database);
  if (!ready) lineageReady.set(database, (ready = new Set()));
  for (const queue of new Set(queues)) {
    if (ready.has(queue)) continue;
    await database.query('select ai_sdk_absurd.ensure_task_lineage($1)', [queue]);
    ready.add(queue);
  }
}
