// A PgBouncer of the test's own, in transaction mode, in front of a real Postgres server: its config and auth
// file live in a temporary directory, it listens on a free 127.0.0.1 port and is killed when the test ends.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface PgBouncer {
  /** `postgres://user@127.0.0.1:<port>/<database>` through the pooler. */
  urlFor(database: string): string;
  readonly port: number;
  /** Server connections per database and user (`default_pool_size`). */
  readonly poolSize: number;
  stop(): Promise<void>;
}

/** The pgbouncer binary: Debian's, or one on PATH; undefined when it is not installed. */
export function findPgBouncer(): string | undefined {
  if (existsSync('/usr/sbin/pgbouncer')) return '/usr/sbin/pgbouncer';
  const found = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

/** Starts PgBouncer with `pool_mode = transaction` in front of the server of `serverUrl`. */
export async function startPgBouncer(
  binary: string,
  serverUrl: string,
  options: { poolSize?: number; serverRoundRobin?: boolean } = {},
): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const poolSize = options.poolSize ?? 4;
  const port = await freePort();
  const directory = await mkdtemp(join(tmpdir(), 'ai-sdk-absurd-pgbouncer-'));
  // PgBouncer refuses to run as root; it then drops to an unprivileged user, which must read these files.
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  await chmod(directory, 0o755);
  const authFile = join(directory, 'userlist.txt');
  await writeFile(authFile, `"${user}" "${password}"\n`, { mode: 0o644 });
  const config = [
    '[databases]',
    `* = host=${server.hostname} port=${server.port || 5432}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${authFile}`,
    'pool_mode = transaction',
    `default_pool_size = ${poolSize}`,
    'min_pool_size = 0',
    'reserve_pool_size = 0',
    `max_db_connections = ${poolSize}`,
    'max_client_conn = 200',
    'ignore_startup_parameters = extra_float_digits,options',
    // By default the server connection used last is reused first; round robin takes the one idle longest.
    `server_round_robin = ${options.serverRoundRobin ? 1 : 0}`,
    ...(runAs ? [`user = ${runAs}`] : []),
  ].join('\n');
  const configFile = join(directory, 'pgbouncer.ini');
  await writeFile(configFile, `${config}\n`, { mode: 0o644 });

  const child = spawn(binary, [configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (data) => (output += data));
  child.stderr?.on('data', (data) => (output += data));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    await stop(child, exited, directory);
    throw error;
  }
  return {
    port,
    poolSize,
    urlFor(database) {
      const url = new URL(serverUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      url.pathname = `/${database}`;
      return url.toString();
    },
    stop: () => stop(child, exited, directory),
  };
}

async function stop(child: ChildProcess, exited: Promise<void>, directory: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
  await rm(directory, { recursive: true, force: true });
}

function unprivilegedUser(): string {
  for (const candidate of ['postgres', 'nobody']) {
    if (spawnSync('id', ['-u', candidate]).status === 0) return candidate;
  }
  throw new Error('PgBouncer cannot run as root and neither a "postgres" nor a "nobody" user exists to run it as.');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with code ${child.exitCode}:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await delay(100);
  }
  throw new Error(`pgbouncer did not listen on 127.0.0.1:${port}:\n${output()}`);
}
