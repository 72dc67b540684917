// A tool the model calls to pause its run: the task sleeps in Absurd, holding no worker, and the same
// run continues when it wakes. The wake-up time is recorded once, so a crash or a retry keeps it.
import { jsonSchema, tool, type Tool } from 'ai';
import { SuspendTask } from 'absurd-sdk';
import { waitInTurn } from '../client/suspension-gate.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { currentToolCall } from './current-tool-call.ts';
import { secondsSetting } from './seconds-setting.ts';
import { databaseNow, recordOnce, scheduleRunAt } from './task-clock.ts';

export interface SleepToolOptions {
  /** The longest sleep the model may ask for, in seconds. Default: 7 days. */
  readonly maxSeconds?: number;
  /** The shortest sleep, in seconds. Default: 0. */
  readonly minSeconds?: number;
  /** Overrides the description the model reads. */
  readonly description?: string;
}

/** What the model passes: a duration, or an ISO 8601 time to continue at. */
export interface SleepToolInput {
  readonly seconds?: number;
  readonly until?: string;
  readonly reason?: string;
}

/** What the model reads once the run continues. */
export interface SleepToolResult {
  readonly sleptFrom: string;
  readonly wakeAt: string;
  readonly wokeAt: string;
  readonly reason?: string;
}

interface SleepPlan {
  readonly sleptFrom: string;
  readonly wakeAt: string;
}

const defaultMaxSeconds = 7 * 24 * 60 * 60;

/**
 * A tool that suspends the task until a duration has passed or a time has come, then returns when it
 * woke. Give it to an `AbsurdAgent` (or wrap it with `durableTools`); the worker is free meanwhile.
 *
 * @example
 * ```ts
 * const agent = new AbsurdAgent({ id: 'follow-up', model, tools: { sleep: sleepTool({ maxSeconds: 86_400 }) } });
 * // The model may call sleep({ seconds: 7200 }) or sleep({ until: '2027-01-01T09:00:00Z' }).
 * ```
 */
export function sleepTool(options: SleepToolOptions = {}): Tool<SleepToolInput, SleepToolResult> {
  const maxSeconds = secondsSetting(options.maxSeconds, defaultMaxSeconds, 'maxSeconds', 'sleepTool');
  const minSeconds = secondsSetting(options.minSeconds, 0, 'minSeconds', 'sleepTool');
  if (minSeconds > maxSeconds) {
    throw new ConfigurationError({
      setting: 'minSeconds',
      message: `sleepTool: minSeconds (${minSeconds}) is larger than maxSeconds (${maxSeconds}). Make minSeconds <= maxSeconds.`,
    });
  }
  return tool({
    description:
      options.description ??
      `Pause this run and continue later, for between ${minSeconds} and ${maxSeconds} seconds. ` +
        'Pass either seconds (a duration) or until (an ISO 8601 date-time with a time zone). Returns when the run woke.',
    inputSchema: jsonSchema<SleepToolInput>(
      {
        type: 'object',
        properties: {
          seconds: { type: 'number', minimum: minSeconds, maximum: maxSeconds, description: 'How long to sleep.' },
          until: { type: 'string', format: 'date-time', description: 'When to continue (ISO 8601, with a time zone).' },
          reason: { type: 'string', description: 'Why the run waits (kept with the result).' },
        },
        additionalProperties: false,
      },
      { validate: (value) => validateSleepInput(value, minSeconds, maxSeconds) },
    ),
    async execute(input): Promise<SleepToolResult> {
      const call = currentToolCall('sleepTool');
      const now = await databaseNow(call.task);
      const plan = await recordOnce<SleepPlan>(call.task, `${call.stepName}:sleep`, () => ({
        sleptFrom: now.toISOString(),
        wakeAt: wakeTime(input, now, minSeconds, maxSeconds).toISOString(),
      }));
      const wakeAt = new Date(plan.wakeAt);
      if (now.getTime() < wakeAt.getTime()) {
        await waitInTurn(
          call.task,
          async () => {
            await scheduleRunAt(call.task, wakeAt);
            throw new SuspendTask();
          },
          call.stepName,
        );
      }
      return { ...plan, wokeAt: now.toISOString(), ...(input.reason === undefined ? {} : { reason: input.reason }) };
    },
  });
}

/** The time to wake: a duration from now, or the time given, kept within the bounds from now. */
function wakeTime(input: SleepToolInput, now: Date, minSeconds: number, maxSeconds: number): Date {
  const requested = input.seconds !== undefined ? now.getTime() + input.seconds * 1000 : Date.parse(input.until!);
  const earliest = now.getTime() + minSeconds * 1000;
  const latest = now.getTime() + maxSeconds * 1000;
  if (requested > latest) {
    throw new RangeError(`sleep: ${input.until} is more than ${maxSeconds} seconds from now (${now.toISOString()}); choose an earlier time.`);
  }
  return new Date(Math.max(requested, earliest));
}

function validateSleepInput(value: unknown, minSeconds: number, maxSeconds: number) {
  const fail = (message: string) => ({ success: false as const, error: new TypeError(`sleep: ${message}`) });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('the input must be an object.');
  const input = value as Record<string, unknown>;
  const unknownKey = Object.keys(input).find((key) => !['seconds', 'until', 'reason'].includes(key));
  if (unknownKey !== undefined) return fail(`unknown field "${unknownKey}"; pass seconds or until, and optionally reason.`);
  if ((input.seconds === undefined) === (input.until === undefined)) return fail('pass exactly one of seconds and until.');
  if (input.seconds !== undefined) {
    if (typeof input.seconds !== 'number' || !Number.isFinite(input.seconds)) return fail('seconds must be a finite number.');
    if (input.seconds < minSeconds || input.seconds > maxSeconds) {
      return fail(`seconds must be between ${minSeconds} and ${maxSeconds}; got ${input.seconds}.`);
    }
  }
  if (input.until !== undefined) {
    if (typeof input.until !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(input.until) || Number.isNaN(Date.parse(input.until))) {
      return fail('until must be an ISO 8601 date-time with a time zone, e.g. 2027-01-01T09:00:00Z.');
    }
  }
  if (input.reason !== undefined && typeof input.reason !== 'string') return fail('reason must be a string.');
  return { success: true as const, value: input as SleepToolInput };
}
