import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { startDashboard } from '../../dashboard/start-dashboard.ts';
import { withClient, withDatabaseOption } from '../database-option.ts';

/** `dashboard`: a local web UI of queues, runs, streams and approvals, until interrupted. */
export function registerDashboardCommand(program: Command): void {
  withDatabaseOption(
    program
      .command('dashboard')
      .description('serve a web dashboard of queues, runs (timelines, live streams), approvals and actions, on 127.0.0.1')
      .option('--host <address>', 'interface to bind (default 127.0.0.1; another one exposes runs to that network)')
      .option('--port <port>', 'port (default 7890; 0 picks a free one)', parsePort)
      .option('--token <token>', 'the token actions need (default: AI_SDK_ABSURD_DASHBOARD_TOKEN, else a random one)')
      .option('--read-only', 'show everything, change nothing'),
  ).action(async (options: { db?: string; host?: string; port?: number; token?: string; readOnly?: boolean }) => {
    await withClient(options, async (absurd) => {
      const dashboard = await startDashboard({
        absurd,
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.port === undefined ? {} : { port: options.port }),
        ...(options.token ?? process.env.AI_SDK_ABSURD_DASHBOARD_TOKEN ? { token: options.token ?? process.env.AI_SDK_ABSURD_DASHBOARD_TOKEN } : {}),
        readOnly: Boolean(options.readOnly),
      });
      if (dashboard.exposed) {
        console.error(
          `warning: the dashboard listens on ${options.host}, so anyone who can reach it there can read every run ` +
            '(params, model outputs). Actions still need the token.',
        );
      }
      console.log(`Dashboard: ${dashboard.urlWithToken}`);
      console.log(options.readOnly ? 'Read-only: nothing can be changed from it.' : `Actions need the token ${dashboard.token} (the URL above carries it).`);
      console.log('Press Ctrl+C to stop.');
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await dashboard.close();
    });
  });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return port;
}
