// A tool the model calls to wait for something to happen outside the run (a webhook, a person, another
// service): the task waits on an Absurd event, holding no worker, and the event's payload is the result.
import { jsonSchema, tool, type Tool } from 'ai';
import { TimeoutError } from 'absurd-sdk';
import { waitInTurn } from '../client/suspension-gate.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { currentToolCall } from './current-tool-call.ts';
import { secondsSetting } from './seconds-setting.ts';

export interface WaitForEventToolOptions {
  /** The events the model may wait for: names, or names mapped to a description the model reads. */
  readonly events: readonly string[] | Readonly<Record<string, string>>;
  /**
   * The Absurd event name awaited for the event the model chose. Default: the name itself. Use it to
   * scope events to one task, e.g. `(event, { taskID }) => `${event}:${taskID}``.
   */
  readonly eventName?: (event: string, context: { readonly taskID: string; readonly queueName: string }) => string;
  /** The longest wait the model may ask for, in seconds. Default: 7 days. */
  readonly maxTimeoutSeconds?: number;
  /** The wait when the model gives no timeout, in seconds. Default: `maxTimeoutSeconds`. */
  readonly defaultTimeoutSeconds?: number;
  /** Overrides the description the model reads. */
  readonly description?: string;
}

export interface WaitForEventToolInput {
  readonly event: string;
  readonly timeoutSeconds?: number;
}

export type WaitForEventToolResult =
  | { readonly event: string; readonly received: true; readonly payload: unknown }
  | { readonly event: string; readonly received: false; readonly timedOut: true; readonly timeoutSeconds: number };

const defaultMaxTimeoutSeconds = 7 * 24 * 60 * 60;

/**
 * A tool that suspends the task until one of the allowed events is emitted (`absurd.emitEvent(name,
 * payload)` from any process) or the timeout passes. Give it to an `AbsurdAgent` (or `durableTools`).
 *
 * @example
 * ```ts
 * const waitForEvent = waitForEventTool({
 *   events: { 'invoice.paid': 'The customer paid the invoice.' },
 *   eventName: (event, { taskID }) => `${event}:${taskID}`,
 *   maxTimeoutSeconds: 3 * 86_400,
 * });
 * // elsewhere: await absurd.emitEvent(`invoice.paid:${taskID}`, { amount: 120 });
 * ```
 */
export function waitForEventTool(options: WaitForEventToolOptions): Tool<WaitForEventToolInput, WaitForEventToolResult> {
  const events = eventDescriptions(options.events);
  const names = [...events.keys()];
  const maxTimeoutSeconds = secondsSetting(options.maxTimeoutSeconds, defaultMaxTimeoutSeconds, 'maxTimeoutSeconds', 'waitForEventTool');
  const defaultTimeoutSeconds = secondsSetting(options.defaultTimeoutSeconds, maxTimeoutSeconds, 'defaultTimeoutSeconds', 'waitForEventTool');
  if (defaultTimeoutSeconds > maxTimeoutSeconds) {
    throw new ConfigurationError({
      setting: 'defaultTimeoutSeconds',
      message: `waitForEventTool: defaultTimeoutSeconds (${defaultTimeoutSeconds}) is larger than maxTimeoutSeconds (${maxTimeoutSeconds}).`,
    });
  }
  const described = [...events].map(([name, text]) => (text ? `"${name}": ${text}` : `"${name}"`)).join('; ');
  return tool({
    description:
      options.description ??
      `Pause this run until an event happens, then continue with its data. Events: ${described}. ` +
        `Waits at most ${maxTimeoutSeconds} seconds (default ${defaultTimeoutSeconds}); a timeout is reported, not an error.`,
    inputSchema: jsonSchema<WaitForEventToolInput>(
      {
        type: 'object',
        properties: {
          event: { type: 'string', enum: names, description: 'Which event to wait for.' },
          timeoutSeconds: { type: 'number', minimum: 0, maximum: maxTimeoutSeconds, description: 'How long to wait at most.' },
        },
        required: ['event'],
        additionalProperties: false,
      },
      { validate: (value) => validateWaitInput(value, names, maxTimeoutSeconds) },
    ),
    async execute(input): Promise<WaitForEventToolResult> {
      const call = currentToolCall('waitForEventTool');
      const awaited = options.eventName
        ? options.eventName(input.event, { taskID: call.task.taskID, queueName: call.task.queueName })
        : input.event;
      if (typeof awaited !== 'string' || awaited.length === 0) {
        throw new ConfigurationError({
          setting: 'eventName',
          message: `waitForEventTool: eventName() returned ${JSON.stringify(awaited)} for "${input.event}"; it must return a non-empty string.`,
        });
      }
      const timeoutSeconds = input.timeoutSeconds ?? defaultTimeoutSeconds;
      try {
        const payload = await waitInTurn(
          call.task,
          () => call.task.ctx.awaitEvent(awaited, { stepName: `${call.stepName}:event`, timeout: timeoutSeconds }),
          call.stepName,
        );
        return { event: input.event, received: true, payload };
      } catch (error) {
        if (error instanceof TimeoutError) return { event: input.event, received: false, timedOut: true, timeoutSeconds };
        throw error;
      }
    },
  });
}

function eventDescriptions(events: WaitForEventToolOptions['events'] | undefined): Map<string, string> {
  const entries: [string, string][] = Array.isArray(events)
    ? events.map((name) => [name, ''])
    : events && typeof events === 'object'
      ? Object.entries(events as Record<string, string>)
      : [];
  const bad = entries.find(([name, text]) => typeof name !== 'string' || name.length === 0 || typeof text !== 'string');
  if (entries.length === 0 || bad) {
    throw new ConfigurationError({
      setting: 'events',
      message:
        'waitForEventTool: events must name at least one event, as a list of non-empty strings or an object of ' +
        `name → description; got ${bad ? JSON.stringify(bad[0]) : JSON.stringify(events)}.`,
    });
  }
  return new Map(entries);
}

function validateWaitInput(value: unknown, names: readonly string[], maxTimeoutSeconds: number) {
  const fail = (message: string) => ({ success: false as const, error: new TypeError(`waitForEvent: ${message}`) });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('the input must be an object.');
  const input = value as Record<string, unknown>;
  const unknownKey = Object.keys(input).find((key) => key !== 'event' && key !== 'timeoutSeconds');
  if (unknownKey !== undefined) return fail(`unknown field "${unknownKey}"; pass event and optionally timeoutSeconds.`);
  if (typeof input.event !== 'string' || !names.includes(input.event)) {
    return fail(`event must be one of ${names.map((name) => JSON.stringify(name)).join(', ')}; got ${JSON.stringify(input.event)}.`);
  }
  if (input.timeoutSeconds !== undefined) {
    const timeout = input.timeoutSeconds;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > maxTimeoutSeconds) {
      return fail(`timeoutSeconds must be a number between 0 and ${maxTimeoutSeconds}; got ${JSON.stringify(timeout)}.`);
    }
  }
  return { success: true as const, value: input as unknown as WaitForEventToolInput };
}
