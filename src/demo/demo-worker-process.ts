// Starts a demo worker as a separate Node.js process and follows its events, so the demo can kill it the way a
// crash would (SIGKILL: no cleanup, no goodbye) and start another one.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDemoEvent, type DemoEvent } from './demo-events.ts';
import type { DemoWorkerConfig } from './demo-worker.ts';

export interface DemoWorkerProcess {
  readonly pid: number;
  readonly events: readonly DemoEvent[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the process wrote to stderr (shown when something goes wrong). */
  stderr(): string;
  /** Resolves with the first event (past or future) that matches; rejects if the process exits or time runs out first. */
  waitForEvent<T extends DemoEvent>(predicate: (event: DemoEvent) => event is T, timeoutMs: number, waitingFor: string): Promise<T>;
  kill(signal: NodeJS.Signals): void;
}

// The worker sits next to this file: demo-worker.ts when running from source, demo-worker.js once compiled.
const workerScript = fileURLToPath(new URL(`./demo-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export function startDemoWorkerProcess(config: DemoWorkerConfig, onEvent: (event: DemoEvent) => void): DemoWorkerProcess {
  const child: ChildProcess = spawn(process.execPath, [workerScript, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const events: DemoEvent[] = [];
  const watchers = new Set<() => void>();
  let stderr = '';
  let exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = parseDemoEvent(line);
    if (!event) return;
    events.push(event);
    onEvent(event);
    for (const watcher of [...watchers]) watcher();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      exitStatus = { code, signal };
      resolve(exitStatus);
      for (const watcher of [...watchers]) watcher();
    });
  });

  return {
    pid: child.pid ?? -1,
    events,
    exited,
    stderr: () => stderr,
    kill: (signal) => {
      child.kill(signal);
    },
    waitForEvent(predicate, timeoutMs, waitingFor) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${waitingFor}.${tail(stderr)}`));
        }, timeoutMs);
        function check() {
          const found = events.find(predicate);
          if (found) {
            watchers.delete(check);
            clearTimeout(timer);
            resolve(found);
          } else if (exitStatus) {
            watchers.delete(check);
            clearTimeout(timer);
            const how = exitStatus.signal ? `was killed by ${exitStatus.signal}` : `exited with code ${exitStatus.code}`;
            const reported = events.filter((event) => event.type === 'worker-error').map((event) => event.message);
            reject(
              new Error(
                `The worker process ${how} before ${waitingFor}.` +
                  `${reported.length > 0 ? ` It reported: ${reported.join('; ')}` : ''}${tail(stderr)}`,
              ),
            );
          }
        }
        watchers.add(check);
        check();
      });
    },
  };
}

function tail(stderr: string): string {
  const text = stderr.trim();
  return text ? `\nWorker output (stderr):\n${text.split('\n').slice(-25).join('\n')}` : '';
}
