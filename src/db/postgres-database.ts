import pg from 'pg';
import type { Database, Queryable } from './database.ts';

/**
 * A `Database` over a node-postgres pool. LISTEN needs a connection of its own that outlives
 * single queries, so notifications use a dedicated client that reconnects after a lost connection.
 */
export function createPostgresDatabase(source: string | pg.Pool, options: { owned?: boolean } = {}): Database {
  const pool = typeof source === 'string' ? new pg.Pool({ connectionString: source }) : source;
  const owned = options.owned ?? typeof source === 'string';
  // An idle client that loses its server (restart, failover) must not crash the process.
  pool.on('error', () => {});
  const listeners = new Set<{ close(): Promise<void> }>();

  return {
    kind: 'postgres',
    query: async (text, params) => (await pool.query(text, params as unknown[])) as { rows: any[] },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const transaction = {
          query: (text: string, params?: unknown[]) => client.query(text, params),
          exec: async (sql: string) => {
            await client.query(sql);
          },
        } as Queryable & { exec(sql: string): Promise<void> };
        const result = await fn(transaction);
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      const listener = createListener(pool.options, channel, onNotify);
      listeners.add(listener);
      await listener.started;
      return async () => {
        listeners.delete(listener);
        await listener.close();
      };
    },
    ready: async () => {},
    async close() {
      await Promise.all([...listeners].map((listener) => listener.close()));
      listeners.clear();
      if (owned) await pool.end();
    },
  };
}

function createListener(config: pg.PoolConfig, channel: string, onNotify: (payload: string) => void) {
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
