// Serves the dashboard with Node's HTTP server through hono's adapter, on 127.0.0.1 unless told otherwise.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Absurd } from '../client/absurd.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { createDashboardApp } from './dashboard-app.ts';

export interface DashboardOptions {
  /** The client whose database the dashboard reads (every queue of it). */
  readonly absurd: Absurd;
  /** Default 127.0.0.1. Another interface exposes the runs (params, outputs) to that network. */
  readonly host?: string;
  /** Default 7890; 0 picks a free port. */
  readonly port?: number;
  /** The action token; default: a random one. */
  readonly token?: string;
  /** Nothing can be changed from the pages. */
  readonly readOnly?: boolean;
}

export interface RunningDashboard {
  /** `http://host:port/` */
  readonly url: string;
  /** Opens the dashboard with actions enabled (the token is moved into a cookie at once). */
  readonly urlWithToken: string;
  readonly token: string;
  /** True when the host is not a loopback address. */
  readonly exposed: boolean;
  close(): Promise<void>;
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Starts the dashboard: queues, runs with their timelines and live streams, approvals, and cancel, retry,
 * fork and approve/deny actions (these need the token).
 *
 * @example
 * ```ts
 * const dashboard = await startDashboard({ absurd, port: 0 });
 * console.log(`open ${dashboard.urlWithToken}`);
 * ```
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 7890;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigurationError({ setting: 'port', message: `The dashboard port must be a whole number from 0 to 65535, not ${String(port)}.` });
  }
  const token = options.token ?? randomBytes(18).toString('base64url');
  if (token.length < 16 || !/^[\w.~-]+$/.test(token)) {
    throw new ConfigurationError({
      setting: 'token',
      message: 'The dashboard token must be at least 16 characters of letters, digits, "-", "_", "." or "~". Leave it out to get a random one.',
    });
  }
  let boundPort = port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const allowedHosts = () =>
    loopbackHosts.has(host)
      ? [`127.0.0.1:${boundPort}`, `localhost:${boundPort}`, `[::1]:${boundPort}`]
      : [`${urlHost}:${boundPort}`.toLowerCase()];
  const app = createDashboardApp({ absurd: options.absurd, token, readOnly: Boolean(options.readOnly), allowedHosts });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(started));
    started.once('error', reject);
  });
  boundPort = (server.address() as AddressInfo).port;
  const url = `http://${urlHost}:${boundPort}/`;
  return {
    url,
    urlWithToken: options.readOnly ? url : `${url}?token=${token}`,
    token,
    exposed: !loopbackHosts.has(host),
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
