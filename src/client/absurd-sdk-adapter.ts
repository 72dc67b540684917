// Everything this library knows about absurd-sdk beyond its typed public API lives here: the text of
// the statements it sends, the positions of their parameters, and the columns it reads from their
// results. absurd-sdk is used unmodified; the client recognises a few of its statements to follow a
// run's checkpoints and lease. The contract test (test/client/absurd-sdk-adapter.test.ts) drives the
// installed absurd-sdk through each statement below and fails, naming this file, when the installed
// version is not the one verified here; package.json allows only that version.
//
// Behaviour of absurd-sdk 0.5.0 relied on besides the statements:
// - `workBatch` and the worker call `this.claimTasks` and `this.executeTask`, so overrides see every
//   claimed task, and `executeTask` receives the very object `claimTasks` returned.
// - `executeTask` loads the run's checkpoints (the load statement) before it calls the handler, inside
//   the async context of `executeTask`, and sends every statement of the execution from that context.
// - `ctx.completeStep(handle, value)` writes under `handle.checkpointName`, so a handle built by
//   `checkpointHandle` writes the name given, without absurd-sdk's `#n` numbering.
// - A step whose name is missing from absurd-sdk's own cache is looked up with the lookup statement.
import type { StepHandle } from 'absurd-sdk';

/** The absurd-sdk version whose statements this file describes (and the only one package.json allows). */
export const verifiedAbsurdSdkVersion = '0.5.0';

/** One of absurd-sdk's statements, with its parameters by meaning rather than position. */
export type SdkStatement =
  /** The checkpoint load at the start of an execution: `get_task_checkpoint_states(queue, task, run)`. */
  | { readonly kind: 'load'; readonly queueName: string; readonly taskID: unknown; readonly runID: unknown }
  /** A step's cache-miss lookup: `get_task_checkpoint_state(queue, task, name)`. */
  | { readonly kind: 'lookup'; readonly queueName: string; readonly taskID: unknown; readonly checkpointName: string }
  /** A step's write: `set_task_checkpoint_state(queue, task, name, state JSON text, run, lease extension)`. */
  | {
      readonly kind: 'write';
      readonly queueName: string;
      readonly taskID: unknown;
      readonly checkpointName: string;
      /** `JSON.stringify` of the value, or null (SQL NULL) for `undefined`. */
      readonly stateText: string | null;
      readonly runID: unknown;
      readonly extension: unknown;
    }
  /** A heartbeat: `extend_claim(queue, run, seconds)`. */
  | { readonly kind: 'heartbeat'; readonly queueName: string; readonly runID: unknown; readonly extension: unknown }
  /** An event wait: `await_event(queue, task, run, name, event, timeout)`; stores the payload under `name` when it returns one. */
  | { readonly kind: 'await'; readonly queueName: string; readonly taskID: unknown; readonly runID: unknown; readonly checkpointName: string }
  | { readonly kind: 'other' };

const calls = {
  load: 'absurd.get_task_checkpoint_states(',
  lookup: 'absurd.get_task_checkpoint_state(',
  write: 'absurd.set_task_checkpoint_state(',
  heartbeat: 'absurd.extend_claim(',
  await: 'absurd.await_event(',
} as const;

/** Recognises the statements of absurd-sdk that a claimed run's client follows. */
export function classifySdkStatement(text: string, params: readonly unknown[] | undefined): SdkStatement {
  const values = params ?? [];
  const queueName = String(values[0]);
  if (text.includes(calls.load)) return { kind: 'load', queueName, taskID: values[1], runID: values[2] };
  if (text.includes(calls.lookup)) return { kind: 'lookup', queueName, taskID: values[1], checkpointName: String(values[2]) };
  if (text.includes(calls.write)) {
    const state = values[3];
    return {
      kind: 'write',
      queueName,
      taskID: values[1],
      checkpointName: String(values[2]),
      stateText: state === null || state === undefined ? null : String(state),
      runID: values[4],
      extension: values[5],
    };
  }
  if (text.includes(calls.heartbeat)) return { kind: 'heartbeat', queueName, runID: values[1], extension: values[2] };
  if (text.includes(calls.await)) return { kind: 'await', queueName, taskID: values[1], runID: values[2], checkpointName: String(values[3]) };
  return { kind: 'other' };
}

/** A checkpoint row as absurd-sdk reads it from the load and the lookup: it uses these two columns only. */
export interface SdkCheckpointRow {
  readonly checkpoint_name: string;
  readonly state: unknown;
}

/** The lookup's answer for a checkpoint the client already knows, or for one it knows does not exist. */
export function lookupResult(checkpointName: string, found: { readonly state: unknown } | undefined): { rows: SdkCheckpointRow[] } {
  return { rows: found ? [{ checkpoint_name: checkpointName, state: found.state }] : [] };
}

/**
 * What an `await_event` result says about the wait's checkpoint: a payload it returned is stored
 * under the wait's name; a suspension stores nothing; a null payload is either a stored JSON null or
 * a timeout that stores nothing, which only the database can tell apart.
 */
export function awaitedCheckpoint(rows: readonly any[]): { readonly state: unknown } | 'none' | 'unknown' {
  const row = rows[0] as { should_suspend?: boolean; payload?: unknown } | undefined;
  if (!row || row.should_suspend !== false) return 'none';
  return row.payload === null || row.payload === undefined ? 'unknown' : { state: row.payload };
}

/** A handle `ctx.completeStep` writes under exactly `name` (see above). */
export function checkpointHandle(name: string, found: { readonly state: unknown } | undefined): StepHandle<unknown> {
  return found ? { name, checkpointName: name, done: true, state: found.state } : { name, checkpointName: name, done: false };
}
