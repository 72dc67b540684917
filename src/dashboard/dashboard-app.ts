// The dashboard's routes. Reading needs nothing beyond reaching the server (bound to localhost by default);
// every action needs the token printed at start: opening the printed URL stores it in a same-site cookie,
// each form sends it back, and POSTs from another origin or for another host name are refused.
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import type { Absurd } from '../client/absurd.ts';
import { forkTask } from '../client/fork-task.ts';
import { isTaskID } from '../client/task-id.ts';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { listQueueSummaries } from '../history/queue-summary.ts';
import { locateTask, readTaskTimeline } from '../history/task-history.ts';
import { listChildTasks } from '../history/task-children.ts';
import { listRuns, type RunListFilter } from './run-list.ts';
import { approvalsPage, liveStreamScript, messagePage, queuesPage, runPage, runsPage } from './dashboard-pages.ts';
import { dashboardStyles, type PageContext } from './page-layout.ts';
import { readToolCallDetails } from './tool-call-details.ts';

export interface DashboardAppOptions {
  readonly absurd: Absurd;
  /** The action token. */
  readonly token: string;
  readonly readOnly: boolean;
  /** Host names (with port) the server answers to; requests naming another host are refused. */
  readonly allowedHosts: () => readonly string[];
}

const cookieName = 'ai_sdk_absurd_dashboard';
const notices: Record<string, string> = {
  approved: 'The tool call was approved; the task resumes on its worker.',
  denied: 'The tool call was denied; the task resumes on its worker.',
  cancelled: 'The task was cancelled.',
  retried: 'This task was spawned as a retry.',
  forked: 'This task was forked; it replays the kept checkpoints and runs live from there.',
};

export function createDashboardApp(options: DashboardAppOptions): Hono {
  const { absurd, token, readOnly } = options;
  const app = new Hono();
  const contextOf = (c: Context): PageContext => {
    const authorised = !readOnly && sameToken(getCookie(c, cookieName), token);
    return { readOnly, authorised, formToken: authorised ? token : undefined };
  };

  // A page fetched under a foreign host name (DNS rebinding) is refused before anything runs.
  app.use('*', async (c, next) => {
    const host = c.req.header('host') ?? '';
    if (!options.allowedHosts().includes(host.toLowerCase())) return c.text(`Unknown host ${host}.`, 421);
    c.header('X-Frame-Options', 'DENY');
    c.header('Content-Security-Policy', "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
    c.header('Referrer-Policy', 'no-referrer');
    const given = c.req.query('token');
    if (given !== undefined && c.req.method === 'GET') {
      const url = new URL(c.req.url);
      url.searchParams.delete('token');
      if (!readOnly && sameToken(given, token)) {
        setCookie(c, cookieName, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
      }
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    await next();
  });
  app.use('*', csrf({ origin: (origin) => options.allowedHosts().some((host) => origin === `http://${host}`) }));
  app.post('*', async (c, next) => {
    if (readOnly) return c.html(messagePage(contextOf(c), 'Read-only', 'This dashboard was started with --read-only: it cannot change anything.', 'error'), 403);
    const form = await c.req.parseBody();
    if (!sameToken(getCookie(c, cookieName), token) || !sameToken(String(form.token ?? ''), token)) {
      return c.html(messagePage(contextOf(c), 'Not allowed', 'Actions need the token printed when the dashboard started: open the URL it printed.', 'error'), 403);
    }
    await next();
  });

  app.get('/assets/dashboard.css', (c) => c.body(dashboardStyles, 200, { 'content-type': 'text/css; charset=utf-8' }));
  app.get('/assets/live-stream.js', (c) => c.body(liveStreamScript, 200, { 'content-type': 'text/javascript; charset=utf-8' }));

  app.get('/', async (c) => c.html(queuesPage(contextOf(c), await listQueueSummaries(absurd.database))));

  app.get('/runs', async (c) => {
    const since = c.req.query('since');
    const sinceDate = since ? new Date(since) : undefined;
    const filter: RunListFilter = {
      queue: c.req.query('queue') || undefined,
      state: c.req.query('state') || undefined,
      taskName: c.req.query('task') || undefined,
      agent: c.req.query('agent') || undefined,
      search: c.req.query('q') || undefined,
      since: sinceDate && !Number.isNaN(sinceDate.getTime()) ? sinceDate : undefined,
    };
    const known = filter.queue === undefined || (await listQueueSummaries(absurd.database)).some((queue) => queue.queueName === filter.queue);
    if (!known) return c.html(messagePage(contextOf(c), 'Runs', `No queue named "${filter.queue}".`, 'error'), 404);
    return c.html(runsPage(contextOf(c), filter, await listRuns(absurd.database, filter)));
  });

  app.get('/runs/:taskID', async (c) => {
    const taskID = c.req.param('taskID');
    const timeline = isTaskID(taskID) ? await readTaskTimeline(absurd.database, taskID) : undefined;
    if (!timeline) return c.html(messagePage(contextOf(c), 'Run not found', `No task ${taskID} exists in any queue.`, 'error'), 404);
    const queue = timeline.task.queueName;
    const [children, toolCalls, pending] = await Promise.all([
      listChildTasks(absurd.database, queue, taskID),
      readToolCallDetails(absurd.database, queue, taskID),
      absurd.listPendingApprovals({ taskID, queue }),
    ]);
    const notice = notices[c.req.query('done') ?? ''];
    return c.html(runPage(contextOf(c), { timeline, children, toolCalls, pending, ...(notice ? { message: notice } : {}) }));
  });

  app.get('/runs/:taskID/stream', async (c) => {
    const taskID = c.req.param('taskID');
    const located = isTaskID(taskID) ? await locateTask(absurd.database, taskID) : undefined;
    if (!located) return c.text(`No task ${taskID}.`, 404);
    return absurd.streamResponse(taskID, { queue: located.queueName, signal: c.req.raw.signal } as never);
  });

  app.get('/approvals', async (c) => {
    const notice = notices[c.req.query('done') ?? ''];
    return c.html(approvalsPage(contextOf(c), await absurd.listPendingApprovals(), notice));
  });

  app.post('/approvals/decide', async (c) => {
    const form = await c.req.parseBody();
    const approved = form.approved === 'true';
    const reason = typeof form.reason === 'string' && form.reason.trim() !== '' ? form.reason : undefined;
    const requestId = typeof form.requestId === 'string' && form.requestId !== '' ? form.requestId : undefined;
    await absurd.approveToolCall({
      taskID: String(form.taskID ?? ''),
      ...(requestId === undefined ? { toolCallId: String(form.toolCallId ?? '') } : { requestId }),
      approved,
      ...(reason === undefined ? {} : { reason }),
    } as never);
    const back = String(form.back ?? '/approvals');
    return c.redirect(`${back.startsWith('/') && !back.startsWith('//') ? back : '/approvals'}?done=${approved ? 'approved' : 'denied'}`, 303);
  });

  app.post('/runs/:taskID/cancel', async (c) => {
    const located = await requireTask(c.req.param('taskID'));
    await absurd.cancelTask(located.taskID, located.queueName);
    return c.redirect(`/runs/${located.taskID}?done=cancelled`, 303);
  });

  app.post('/runs/:taskID/retry', async (c) => {
    const located = await requireTask(c.req.param('taskID'));
    const retried = await absurd.retryTask(located.taskID, { queue: located.queueName, spawnNewTask: true });
    return c.redirect(`/runs/${retried.taskID}?done=retried`, 303);
  });

  app.post('/runs/:taskID/fork', async (c) => {
    const located = await requireTask(c.req.param('taskID'));
    const form = await c.req.parseBody();
    const from = String(form.from ?? '').trim();
    const fork = await forkTask(absurd.database, located.queueName, located.taskID, { fromCheckpoint: /^\d+$/.test(from) ? Number(from) : from });
    return c.redirect(`/runs/${fork.taskID}?done=forked`, 303);
  });

  app.onError((error, c) =>
    error instanceof HTTPException
      ? error.getResponse()
      : c.html(messagePage(contextOf(c), 'That did not work', error instanceof Error ? error.message : String(error), 'error'), 400));

  async function requireTask(taskID: string) {
    const located = isTaskID(taskID) ? await locateTask(absurd.database, taskID) : undefined;
    if (!located) throw new ConfigurationError({ setting: 'taskID', message: `No task ${taskID} exists in any queue.` });
    return located;
  }
  return app;
}

function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const left = Buffer.from(given);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
}
