// Runs examples/chat as real processes on one port: on Postgres a web process and a worker process (the worker can
// be SIGKILLed while the web process keeps serving); on embedded PGlite, whose directory belongs to one process,
// web and worker together (`start.ts`), so killing the worker takes the web process down with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repositoryRoot } from '../docs/support/markdown-code-blocks.ts';

const exampleFolder = join(repositoryRoot, 'examples', 'chat');
const startupTimeoutMs = 180_000;

export interface ChatExampleOptions {
  /** `postgres://…` or `pglite:<directory>`. */
  readonly databaseUrl: string;
  /** The OpenAI-compatible model the worker calls. */
  readonly modelBaseURL: string;
  /** Working directory of the processes. */
  readonly cwd: string;
  /** Seconds a killed worker's lease lasts. */
  readonly claimTimeoutSeconds: number;
}

export interface ChatExample {
  readonly url: string;
  /** Whether the worker shares its process with the web process (embedded PGlite). */
  readonly combined: boolean;
  /** SIGKILLs the worker process (and, when combined, the web process). */
  killWorker(): Promise<void>;
  /** Starts a new worker process (and, when combined, a new web process on the same port). */
  startWorker(): Promise<void>;
  /** Everything the processes printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export async function startChatExample(options: ChatExampleOptions): Promise<ChatExample> {
  const combined = options.databaseUrl.startsWith('pglite:');
  // The first web process picks a free port; a web process started again after a kill takes the same one.
  const env: Record<string, string | undefined> = {
    ...process.env,
    ABSURD_DATABASE_URL: options.databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    OPENAI_BASE_URL: options.modelBaseURL,
    OPENAI_API_KEY: 'scripted',
    OPENAI_MODEL: 'scripted-analyst',
    CHAT_CLAIM_TIMEOUT: String(options.claimTimeoutSeconds),
  };
  let log = '';
  const running = new Set<Running>();

  const start = async (file: string, readyLine: RegExp): Promise<Running & { printed: string }> => {
    const child = spawn(process.execPath, [join(exampleFolder, file)], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const entry = { child, exited };
    running.add(entry);
    void exited.then(() => running.delete(entry));
    let printed = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${file} was not ready within ${startupTimeoutMs} ms.\n${log}`)), startupTimeoutMs);
      const onOutput = (chunk: Buffer) => {
        printed += chunk.toString('utf8');
        log += `[${file} ${child.pid}] ${chunk.toString('utf8')}`;
        if (readyLine.test(printed)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onOutput);
      child.stderr.on('data', (chunk: Buffer) => (log += `[${file} ${child.pid}] ${chunk.toString('utf8')}`));
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${file} exited before it was ready.\n${log}`));
      });
    });
    await ready;
    return { ...entry, printed };
  };

  const startWorker = () =>
    combined ? start('start.ts', /Chat listening on http:\/\/\S+\n[\s\S]*Chat worker ready/) : start('worker.ts', /Chat worker ready/);
  let worker = await startWorker();
  const web = combined ? worker : await start('web.ts', /Chat listening on http:\/\/\S+\n/);
  const url = /Chat listening on (http:\/\/\S+)/.exec(web.printed)?.[1];
  if (!url) throw new Error(`The web process printed no address.\n${log}`);
  env.PORT = new URL(url).port;

  return {
    url,
    combined,
    async killWorker() {
      worker.child.kill('SIGKILL');
      await worker.exited;
    },
    async startWorker() {
      worker = await startWorker();
    },
    output: () => log,
    async close() {
      for (const entry of running) entry.child.kill('SIGTERM');
      const stopped = Promise.all([...running].map((entry) => entry.exited));
      const timer = setTimeout(() => {
        for (const entry of running) entry.child.kill('SIGKILL');
      }, 10_000);
      await stopped;
      clearTimeout(timer);
    },
  };
}
