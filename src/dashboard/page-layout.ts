// The frame of every dashboard page and the small formatting pieces they share. Every value is
// interpolated through hono's `html` template, which escapes it: model output is untrusted HTML.
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageContext {
  readonly readOnly: boolean;
  /** True when this browser holds the action token (a cookie set from the printed URL). */
  readonly authorised: boolean;
  /** Sent back with every form, so a forged cross-site form cannot act. */
  readonly formToken: string | undefined;
}

export function page(title: string, context: PageContext, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ai-sdk-absurd</title>
<link rel="stylesheet" href="/assets/dashboard.css">
</head>
<body>
<header>
  <a class="brand" href="/">ai-sdk-absurd</a>
  <nav><a href="/">Queues</a><a href="/runs">Runs</a><a href="/approvals">Approvals</a></nav>
  <span class="mode">${context.readOnly ? 'read-only' : context.authorised ? 'actions enabled' : 'view only: open the URL printed at start to act'}</span>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A POST form with the token field; nothing when the dashboard cannot act. */
export function actionForm(context: PageContext, action: string, label: string, fields: Record<string, string>, extra?: Html): Html | '' {
  if (context.readOnly || !context.authorised) return '';
  return html`<form method="post" action="${action}" class="action">
${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<input type="hidden" name="token" value="${context.formToken ?? ''}">
${extra ?? ''}<button type="submit">${label}</button>
</form>`;
}

export function stateBadge(state: string): Html {
  return html`<span class="state state-${state}">${state}</span>`;
}

export function formatWhen(value: Date | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? '-' : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** JSON for display, cut to `limit` characters. */
export function shortJson(value: unknown, limit = 400): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

export const dashboardStyles = `
:root { font-family: system-ui, sans-serif; color: #1d232b; background: #f6f7f9; }
body { margin: 0; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .7rem 1.5rem; background: #1d232b; color: #fff; }
header a { color: #fff; text-decoration: none; }
header nav { display: flex; gap: 1rem; }
header .brand { font-weight: 700; }
header .mode { margin-left: auto; font-size: .85rem; opacity: .8; }
main { padding: 1rem 1.5rem 3rem; max-width: 1200px; }
h1 { font-size: 1.4rem; }
h2 { font-size: 1.1rem; margin-top: 1.8rem; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
th { background: #eef0f3; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, monospace; font-size: .82rem; }
pre { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid #e3e6ea; padding: .6rem; margin: .2rem 0; }
.state { padding: .1rem .45rem; border-radius: .6rem; font-size: .8rem; background: #e3e6ea; }
.state-completed { background: #d5f2dc; } .state-failed { background: #fbd9d6; } .state-running { background: #d8e7fb; }
.state-sleeping { background: #f6ecc8; } .state-cancelled { background: #e6dcf3; } .state-pending { background: #eef0f3; }
.replayed { color: #5b6b7c; font-size: .8rem; }
.live { color: #1b6f35; font-size: .8rem; }
form.action { display: inline-flex; gap: .4rem; margin: .2rem .4rem .2rem 0; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: 1rem; }
input, select, button { font: inherit; padding: .25rem .5rem; }
button { cursor: pointer; }
.depth-2 { margin-left: 1.2rem; } .depth-3 { margin-left: 2.4rem; } .depth-4 { margin-left: 3.6rem; } .depth-5, .depth-6 { margin-left: 4.8rem; }
.message { padding: .6rem .8rem; background: #fff4d6; border: 1px solid #f0dc9c; margin-bottom: 1rem; }
#stream { min-height: 4rem; }
`;
