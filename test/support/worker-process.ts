// Runs a fixture script as a real child process on this Node, reads the signals it prints when it reaches a
// point of interest, and kills it with SIGKILL exactly there.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { signalPrefix } from '../fixtures/fixture-signal.ts';

/** One line a fixture printed with `sendSignal()`: a name and its fields. */
export interface WorkerSignal {
  readonly signal: string;
  readonly [field: string]: unknown;
}

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WaitForSignalOptions {
  readonly where?: (signal: WorkerSignal) => boolean;
  /** Default 60 s. */
  readonly timeoutMs?: number;
}

export interface WorkerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every signal received so far, in order. */
  readonly signals: readonly WorkerSignal[];
  /** Resolves once the process has exited. */
  readonly exited: Promise<WorkerExit>;
  /**
   * Resolves with the first signal (already received or still to come) of that name that satisfies `where`.
   * Rejects if the process exits first or the timeout passes; the message carries the process output.
   */
  waitForSignal(name: string, options?: WaitForSignalOptions): Promise<WorkerSignal>;
  /** SIGKILL: no cleanup, no flush, no lock release. Resolves once the process is gone. */
  kill(): Promise<WorkerExit>;
  /** Output that was not a signal (stdout and stderr interleaved), for failure messages. */
  output(): string;
}

export interface WorkerProcessOptions {
  /** Serialised into the child's `FIXTURE_OPTIONS` environment variable. */
  readonly options?: unknown;
  readonly env?: Record<string, string>;
}

/** Starts `fixture` (a path or file URL of a `.ts` script) with `process.execPath`. */
export function startWorkerProcess(fixture: string | URL, settings: WorkerProcessOptions = {}): WorkerProcess {
  const script = fixture instanceof URL ? fileURLToPath(fixture) : fixture;
  const child = spawn(process.execPath, [script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...settings.env, FIXTURE_OPTIONS: JSON.stringify(settings.options ?? {}) },
  });
  const signals: WorkerSignal[] = [];
  const watchers = new Set<() => void>();
  let output = '';
  let exit: WorkerExit | undefined;
  const notify = () => {
    for (const watcher of [...watchers]) watcher();
  };

  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.startsWith(signalPrefix)) signals.push(JSON.parse(line.slice(signalPrefix.length)) as WorkerSignal);
      else output += `${line}\n`;
      newline = pending.indexOf('\n');
    }
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
      notify();
    });
  });

  return {
    pid: child.pid ?? -1,
    child,
    signals,
    exited,
    waitForSignal(name, options = {}) {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const matches = (signal: WorkerSignal) => signal.signal === name && (options.where?.(signal) ?? true);
      return new Promise((resolve, reject) => {
        const finish = (outcome: () => void) => {
          watchers.delete(check);
          clearTimeout(timer);
          outcome();
        };
        const check = () => {
          const found = signals.find(matches);
          if (found) finish(() => resolve(found));
          else if (exit) {
            const how = exit.signal ?? `code ${exit.code}`;
            finish(() => reject(new Error(`Worker ${child.pid} exited (${how}) before signal "${name}".\n${output}`)));
          }
        };
        const timer = setTimeout(() => {
          finish(() => reject(new Error(`Worker ${child.pid} sent no "${name}" signal within ${timeoutMs} ms.\n${output}`)));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
    async kill() {
      if (!exit) child.kill('SIGKILL');
      return exited;
    },
    output: () => output,
  };
}
