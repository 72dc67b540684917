import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database, Queryable } from './database.ts';
import type { PostgresClient, PostgresPool } from './postgres-pool.ts';

/** Where a `Database` over Postgres writes its one line about falling back to polling. */
export interface DatabaseLog {
  warn(...args: any[]): void;
}

export interface PostgresDatabaseOptions {
  /** Whether `close()` ends the pool (default: only a pool this function created from a URL). */
  owned?: boolean;
  /**
   * Where LISTEN connects: a direct (unpooled) Postgres URL when `source` goes through a transaction-mode
   * pooler such as PgBouncer, or `false` to never LISTEN and rely on polling. Defaults to `source` itself.
   */
  listenDb?: string | false;
  /** Receives the one warning written when notifications cannot reach this process (default: console). */
  log?: DatabaseLog;
  /** How long the check for a transaction-mode pooler waits for its own notification, in ms (default 1000). */
  listenProbeTimeoutMs?: number;
  /** The schema setup `openDatabase` decided, run once by `ready()`. */
  setUp?: (database: Database) => Promise<void>;
}

/**
 * A `Database` over a node-postgres pool. LISTEN needs a connection of its own that outlives
 * single queries, so notifications use a dedicated client that reconnects after a lost connection.
 * Behind a transaction-mode pooler a LISTEN never hears anything: that is detected once, reported
 * in one log line, and every subscriber falls back to polling (or `listenDb` names a direct connection).
 */
export function createPostgresDatabase(source: string | PostgresPool, options: PostgresDatabaseOptions = {}): Database {
  const pool = typeof source === 'string' ? new pg.Pool({ connectionString: source }) : (source as pg.Pool);
  const owned = options.owned ?? typeof source === 'string';
  // An idle client that loses its server (restart, failover) must not crash the process.
  pool.on('error', () => {});
  const listeners = new Set<{ close(): Promise<void> }>();
  const listenConfig: pg.ClientConfig | undefined =
    options.listenDb === false ? undefined : options.listenDb ? { connectionString: options.listenDb } : pool.options;
  const log = options.log ?? console;
  let notificationsReachUs: Promise<boolean> | undefined;
  // Decided once per database, on the first LISTEN connection; later ones reuse the answer.
  const checkNotifications = (client: pg.Client) =>
    (notificationsReachUs ??= notificationsReach(client, pool, options.listenProbeTimeoutMs ?? 1000).then(
      (reach) => {
        if (!reach) log.warn(pollingFallbackMessage(client));
        return reach;
      },
      (error: unknown) => {
        // A connection lost during the check decides nothing: the next connection checks again.
        notificationsReachUs = undefined;
        throw error;
      },
    ));

  let setUp: Promise<void> | undefined;
  const database: Database = {
    kind: 'postgres',
    query: async (text, params) => (await pool.query(text, params as unknown[])) as { rows: any[] },
    transaction: (fn) => inPoolTransaction(pool, fn),
    async listen(channel, onNotify) {
      if (!listenConfig) return async () => {};
      const listener = createListener(listenConfig, channel, onNotify, checkNotifications);
      listeners.add(listener);
      await listener.started;
      return async () => {
        listeners.delete(listener);
        await listener.close();
      };
    },
    ready: () => (setUp ??= options.setUp ? options.setUp(database) : Promise.resolve()),
    async close() {
      await Promise.all([...listeners].map((listener) => listener.close()));
      listeners.clear();
      if (owned) await pool.end();
    },
  };
  return database;
}

/** Runs `fn` in one transaction on a connection checked out of `pool`, released afterwards. */
export async function inPoolTransaction<T>(
  pool: PostgresPool,
  fn: (transaction: Queryable & { exec(sql: string): Promise<void> }) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    return await inPostgresTransaction(client, fn);
  } finally {
    client.release();
  }
}

/** Runs `fn` in one transaction on `client` (a connection of its own: a pool's client, or a pg.Client). */
export async function inPostgresTransaction<T>(
  client: PostgresClient,
  fn: (transaction: Queryable & { exec(sql: string): Promise<void> }) => Promise<T>,
): Promise<T> {
  await client.query('begin');
  try {
    const result = await fn({
      query: async (text, params) => (await client.query(text, params as unknown[])) as { rows: any[] },
      exec: async (sql) => {
        await client.query(sql);
      },
    });
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

function createListener(
  config: pg.ClientConfig,
  channel: string,
  onNotify: (payload: string) => void,
  checkNotifications: (client: pg.Client) => Promise<boolean>,
) {
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client(config);
    next.on('error', () => scheduleReconnect(next));
    next.on('end', () => scheduleReconnect(next));
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    await next.connect();
    if (!(await checkNotifications(next))) {
      // Nothing would ever arrive: subscribers poll, and no connection is held for it.
      closed = true;
      await next.end().catch(() => {});
      return;
    }
    await next.query(`listen ${pg.escapeIdentifier(channel)}`);
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    // Work may have been published while we were disconnected: let the consumer look once.
    onNotify('');
  };

  const scheduleReconnect = (failed: pg.Client) => {
    if (closed || client !== failed || retryTimer) return;
    client = undefined;
    failed.end().catch(() => {});
    const attempt = () => {
      retryTimer = undefined;
      if (closed) return;
      connect().catch(() => {
        retryTimer = setTimeout(attempt, 500);
        retryTimer.unref();
      });
    };
    retryTimer = setTimeout(attempt, 100);
    retryTimer.unref();
  };

  const started = connect().catch(() => {
    // Polling still works without notifications; keep trying in the background.
    retryTimer = setTimeout(function retry() {
      retryTimer = undefined;
      if (!closed) connect().catch(() => ((retryTimer = setTimeout(retry, 500)), retryTimer.unref()));
    }, 500);
    retryTimer.unref();
  });

  return {
    started,
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      if (current) await current.end().catch(() => {});
    },
  };
}

/**
 * Whether a NOTIFY sent through the pool reaches `client`. A client whose server sees the same
 * address and port is connected directly and needs no test. Otherwise something sits in between.
 * A transaction-mode pooler gives the server connection of the client's last statement to the next
 * transaction that asks: when the pool's next transaction runs on that same backend, notifications
 * cannot reach the client, and that is known without a LISTEN that would stay on a shared connection.
 * Only when that does not show (a session-mode proxy, a busy pooler) does a test notification decide.
 */
async function notificationsReach(client: pg.Client, pool: pg.Pool, timeoutMs: number): Promise<boolean> {
  const { rows } = await client.query<{ port: number | null }>('select inet_client_port() as port');
  const localPort = (client as unknown as { connection: { stream: { localPort?: number } } }).connection.stream.localPort;
  if (rows[0]?.port == null || rows[0].port === localPort) return true;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await backendHandedOver(client, pool)) return false;
  }
  return testNotificationArrives(client, pool, timeoutMs);
}

/** Whether a transaction of the pool runs on the backend that served the client's last statement. */
async function backendHandedOver(client: pg.Client, pool: pg.Pool): Promise<boolean> {
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  const other = await pool.connect();
  try {
    await other.query('begin read only');
    const { rows: next } = await other.query<{ pid: number }>('select pg_backend_pid() as pid');
    return next[0]?.pid === rows[0]?.pid;
  } finally {
    await other.query('rollback').catch(() => {});
    other.release();
  }
}

/** Listens on a channel of its own, notifies it through the pool, and waits for it. */
async function testNotificationArrives(client: pg.Client, pool: pg.Pool, timeoutMs: number): Promise<boolean> {
  const probe = `absurd_listen_probe_${randomBytes(6).toString('hex')}`;
  let arrived!: () => void;
  const arrival = new Promise<boolean>((resolve) => (arrived = () => resolve(true)));
  const onProbe = (message: pg.Notification) => {
    if (message.channel === probe) arrived();
  };
  client.on('notification', onProbe);
  let timer: NodeJS.Timeout | undefined;
  try {
    const listened = await client.query<{ pid: number }>(`listen ${probe}; select pg_backend_pid() as pid`);
    const listenPid = (listened as unknown as Array<{ rows: Array<{ pid: number }> }>)[1]?.rows[0]?.pid;
    await pool.query('select pg_notify($1, $2)', [probe, '']);
    const reached = await Promise.race([arrival, new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)))]);
    await unlistenProbe(client, probe, reached ? undefined : listenPid);
    return reached;
  } finally {
    clearTimeout(timer);
    client.off('notification', onProbe);
  }
}

/**
 * Undoes the test LISTEN. Behind a transaction pooler it stayed on whichever server connection ran it,
 * so the UNLISTEN is repeated until it lands on that connection (a pooler reuses an idle one first);
 * one that never does keeps a LISTEN on a channel nobody notifies until the pooler recycles it.
 */
async function unlistenProbe(client: pg.Client, probe: string, listenPid: number | undefined): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const results = await client.query(`unlisten ${probe}; select pg_backend_pid() as pid`).catch(() => undefined);
    const pid = (results as unknown as Array<{ rows: Array<{ pid: number }> }> | undefined)?.[1]?.rows[0]?.pid;
    if (listenPid === undefined || pid === listenPid) return;
  }
}

function pollingFallbackMessage(client: pg.Client): string {
  return (
    `[ai-sdk-absurd] LISTEN/NOTIFY does not reach this process through ${client.host}:${client.port} ` +
    `(a transaction-mode pooler such as PgBouncer): workers and stream readers poll instead. ` +
    `Set the listenDb option to a direct Postgres URL to wake at once, or to false to skip this check.`
  );
}
