// What a demo worker process tells the demo about the live work it does, one JSON object per line on stdout.
// Only live work is reported: a replayed model call or tool call never reaches the model or the tool, so it
// produces no event, and that absence is what the demo shows.

export type DemoEvent =
  | { readonly type: 'worker-ready'; readonly pid: number }
  | { readonly type: 'attempt-started'; readonly taskID: string; readonly runID: string; readonly attempt: number }
  | { readonly type: 'model-call-started'; readonly call: number; readonly promptDigest: string }
  | {
      readonly type: 'model-call-finished';
      readonly call: number;
      readonly promptDigest: string;
      readonly durationMs: number;
      readonly inputTokens: number | null;
      readonly outputTokens: number | null;
      readonly finishReason: string;
      readonly toolCalls: readonly string[];
      readonly text: string;
    }
  | { readonly type: 'tool-started'; readonly toolName: string; readonly toolCallId: string; readonly input: unknown }
  | {
      readonly type: 'tool-finished';
      readonly toolName: string;
      readonly toolCallId: string;
      readonly output: unknown;
      readonly durationMs: number;
    }
  | { readonly type: 'step-finished'; readonly stepNumber: number; readonly live: boolean; readonly toolCalls: readonly string[] }
  | { readonly type: 'task-finished'; readonly state: string }
  | { readonly type: 'worker-error'; readonly message: string };

const marker = '@@ai-sdk-absurd-demo ';

/** Writes one event for the demo to read. */
export function emitDemoEvent(event: DemoEvent): void {
  process.stdout.write(`${marker}${JSON.stringify(event)}\n`);
}

/** The event on a line of worker output, or undefined for anything else the worker printed. */
export function parseDemoEvent(line: string): DemoEvent | undefined {
  if (!line.startsWith(marker)) return undefined;
  try {
    return JSON.parse(line.slice(marker.length)) as DemoEvent;
  } catch {
    return undefined;
  }
}
