// The dashboard's pages: queues with their counts, the run list with filters, one run's timeline (attempts,
// model and tool calls, approvals, children, failure, live stream) and the pending approvals.
import { html } from 'hono/html';
import type { PendingApproval } from '../approvals/tool-approval.ts';
import type { QueueSummary } from '../history/queue-summary.ts';
import { taskStates } from '../history/queue-summary.ts';
import type { TaskTimeline, TimelineEntry } from '../history/task-history.ts';
import type { ChildTask } from '../history/task-children.ts';
import type { RunListFilter, RunListRow } from './run-list.ts';
import type { ToolCallDetail } from './tool-call-details.ts';
import { actionForm, formatMs, formatWhen, page, shortJson, stateBadge, type Html, type PageContext } from './page-layout.ts';

export function queuesPage(context: PageContext, queues: readonly QueueSummary[]): Html {
  const body = queues.length === 0
    ? html`<p>No queues yet. Create one with <code>absurd.createQueue()</code> or <code>npx ai-sdk-absurd init</code>.</p>`
    : html`<table><thead><tr><th>queue</th>${taskStates.map((state) => html`<th class="num">${state}</th>`)}<th class="num">total</th><th>oldest pending</th></tr></thead>
<tbody>${queues.map(
        (queue) => html`<tr><td><a href="/runs?queue=${encodeURIComponent(queue.queueName)}">${queue.queueName}</a></td>
${taskStates.map((state) => html`<td class="num"><a href="/runs?queue=${encodeURIComponent(queue.queueName)}&amp;state=${state}">${queue.tasks[state]}</a></td>`)}
<td class="num">${queue.totalTasks}</td><td>${formatWhen(queue.oldestPendingAt)}</td></tr>`,
      )}</tbody></table>`;
  return page('Queues', context, body);
}

export function runsPage(context: PageContext, filter: RunListFilter, runs: readonly RunListRow[]): Html {
  const value = (text: string | undefined) => text ?? '';
  const filters = html`<form class="filters" method="get" action="/runs">
<input name="queue" placeholder="queue" value="${value(filter.queue)}">
<select name="state"><option value="">any state</option>${taskStates.map((state) => html`<option value="${state}"${filter.state === state ? ' selected' : ''}>${state}</option>`)}</select>
<input name="task" placeholder="task name" value="${value(filter.taskName)}">
<input name="agent" placeholder="agent" value="${value(filter.agent)}">
<input name="since" placeholder="since (ISO time)" value="${filter.since ? filter.since.toISOString() : ''}">
<input name="q" placeholder="text in params" value="${value(filter.search)}">
<button type="submit">Filter</button></form>`;
  const table = runs.length === 0
    ? html`<p>No runs match.</p>`
    : html`<table><thead><tr><th>task</th><th>name</th><th>queue</th><th>state</th><th class="num">attempts</th><th class="num">model calls</th><th class="num">tool calls</th><th class="num">tokens in / out</th><th>enqueued</th></tr></thead>
<tbody>${runs.map(
        (run) => html`<tr><td><a href="/runs/${run.taskID}"><code>${run.taskID}</code></a></td><td>${run.taskName}</td><td>${run.queueName}</td>
<td>${stateBadge(run.state)}</td><td class="num">${run.attempts}</td><td class="num">${run.modelCalls}</td><td class="num">${run.toolCalls}</td>
<td class="num">${run.inputTokens} / ${run.outputTokens}</td><td>${formatWhen(run.enqueuedAt)}</td></tr>`,
      )}</tbody></table>`;
  return page('Runs', context, html`${filters}${table}`);
}

export interface RunPageData {
  readonly timeline: TaskTimeline;
  readonly children: readonly ChildTask[];
  readonly toolCalls: ReadonlyMap<string, ToolCallDetail>;
  readonly pending: readonly PendingApproval[];
  readonly message?: string;
}

export function runPage(context: PageContext, data: RunPageData): Html {
  const { timeline } = data;
  const { task } = timeline;
  const finished = ['completed', 'failed', 'cancelled'].includes(task.state);
  const models = timeline.entries.filter((entry) => entry.checkpoint.type === 'model-call');
  const replayed = models.filter((entry) => entry.replayedOn.length > 0).length;
  const summary = html`<p>${stateBadge(task.state)} <strong>${task.taskName}</strong> in queue <code>${task.queueName}</code>,
${task.attempts} attempt${task.attempts === 1 ? '' : 's'}; <span id="model-call-count">${models.length}</span> model calls
(<span id="replayed-count">${replayed}</span> replayed), ${task.toolCalls} tool calls, ${task.inputTokens} / ${task.outputTokens} tokens.</p>
<p>enqueued ${formatWhen(task.enqueuedAt)} · finished ${formatWhen(task.finishedAt)}</p>
<div>${finished ? '' : actionForm(context, `/runs/${task.taskID}/cancel`, 'Cancel', {})}
${task.state === 'failed' || task.state === 'cancelled' ? actionForm(context, `/runs/${task.taskID}/retry`, 'Retry as a new task', {}) : ''}
${actionForm(context, `/runs/${task.taskID}/fork`, 'Fork', {}, html`<label>from checkpoint <input name="from" size="4" value="${String(Math.max(timeline.entries.length - 1, 0))}"></label>`)}</div>`;
  const attempts = html`<h2>Attempts</h2><table><thead><tr><th>#</th><th>state</th><th>worker</th><th>started</th><th>finished</th><th>failure</th></tr></thead>
<tbody>${timeline.runs.map(
    (run) => html`<tr><td>${run.attempt}</td><td>${stateBadge(run.state)}</td><td>${run.workerID ?? '-'}</td><td>${formatWhen(run.startedAt)}</td>
<td>${formatWhen(run.finishedAt)}</td><td>${run.failureReason == null ? '' : html`<pre>${failureText(run.failureReason)}</pre>`}</td></tr>`,
  )}</tbody></table>`;
  const entries = html`<h2>Timeline</h2>${timeline.entries.length === 0 ? html`<p>No checkpoints yet.</p>` : html`<table class="timeline"><thead><tr><th>#</th><th>attempt</th><th>step</th><th>details</th></tr></thead>
<tbody>${timeline.entries.map((entry, index) => entryRow(index + 1, entry, data.toolCalls))}</tbody></table>`}`;
  const pending = data.pending.length === 0 ? '' : html`<h2>Waiting for approval</h2>${approvalTable(context, data.pending, `/runs/${task.taskID}`)}`;
  const decided = timeline.approvals.filter((approval) => approval.decidedAt !== null);
  const approvals = decided.length === 0 ? '' : html`<h2>Decisions</h2><table><tbody>${decided.map(
    (approval) => html`<tr><td>${approval.toolName} <code>${approval.toolCallId}</code></td><td>${approval.approved ? 'approved' : 'denied'} by ${approval.decidedBy ?? '-'}</td><td>${approval.reason ?? ''}</td><td>${formatWhen(approval.decidedAt)}</td></tr>`,
  )}</tbody></table>`;
  const children = data.children.length === 0 ? '' : html`<h2>Sub-agents</h2><ul class="children">${data.children.map(
    (child) => html`<li class="child depth-${String(Math.min(child.depth, 6))}"><a href="/runs/${child.taskID}"><code>${child.taskID}</code></a> from <code>${child.toolCallStep}</code> (queue ${child.queueName})</li>`,
  )}</ul>`;
  const live = html`<h2>Stream</h2><p class="live" id="stream-state">${finished ? 'The run has finished; its stream is replayed from the start.' : 'Live: text appears as the run produces it.'}</p>
<pre id="stream" data-task="${task.taskID}" data-queue="${task.queueName}"></pre><script src="/assets/live-stream.js" defer></script>`;
  const result = task.state === 'completed' ? html`<h2>Result</h2><pre>${shortJson(timeline.result, 4000)}</pre>` : '';
  const params = html`<h2>Params</h2><pre>${shortJson(timeline.params, 4000)}</pre>`;
  const message = data.message ? html`<p class="message">${data.message}</p>` : '';
  return page(`Run ${task.taskID}`, context, html`${message}${summary}${pending}${attempts}${entries}${approvals}${children}${live}${result}${params}`);
}

function entryRow(number: number, entry: TimelineEntry, toolCalls: ReadonlyMap<string, ToolCallDetail>): Html {
  const checkpoint = entry.checkpoint;
  const replay = entry.replayedOn.length > 0 ? html` <span class="replayed">replayed on attempt ${entry.replayedOn.join(', ')}</span>` : html` <span class="live">live</span>`;
  let step: Html;
  let details: Html | string = '';
  switch (checkpoint.type) {
    case 'model-call':
      step = html`<span class="kind-model">model call</span> <code>${checkpoint.provider}/${checkpoint.modelId}</code>`;
      details = html`${checkpoint.usage.inputTokens ?? 0} in / ${checkpoint.usage.outputTokens ?? 0} out tokens · ${formatMs(checkpoint.durationMs)} · ${checkpoint.finishReason ?? '?'}${checkpoint.attempts > 1 ? ` · ${checkpoint.attempts} provider attempts` : ''}`;
      break;
    case 'tool-call': {
      const detail = toolCalls.get(checkpoint.name);
      step = html`<span class="kind-tool">tool</span> <code>${checkpoint.toolName}</code> <code>${checkpoint.toolCallId}</code>`;
      details = html`${formatMs(checkpoint.durationMs)}${detail?.input === undefined ? '' : html`<pre>input ${shortJson(detail.input)}</pre>`}${
        checkpoint.outcome === 'error' ? html`<pre>error ${checkpoint.error ?? shortJson(detail?.error)}</pre>` : detail && 'output' in detail ? html`<pre>output ${shortJson(detail.output)}</pre>` : ''
      }`;
      break;
    }
    case 'mcp-tool-listing':
      step = html`MCP tool listing <code>${checkpoint.clientName}</code>`;
      details = checkpoint.toolCount === null ? '' : `${checkpoint.toolCount} tools`;
      break;
    case 'approval':
      step = html`approval ${checkpoint.phase} <code>${checkpoint.toolCallId}</code>`;
      details = checkpoint.approved === undefined ? '' : `${checkpoint.approved ? 'approved' : 'denied'}${checkpoint.reason ? `: ${checkpoint.reason}` : ''}`;
      break;
    default:
      step = html`step`;
  }
  return html`<tr class="entry entry-${checkpoint.type}"><td>${number}</td><td>${entry.attempt ?? '?'}</td><td>${step}${replay}<br><code class="replayed">${checkpoint.name}</code></td><td>${details}</td></tr>`;
}

export function approvalsPage(context: PageContext, pending: readonly PendingApproval[], message?: string): Html {
  const body = pending.length === 0 ? html`<p>Nothing is waiting for approval.</p>` : approvalTable(context, pending, '/approvals');
  return page('Approvals', context, html`${message ? html`<p class="message">${message}</p>` : ''}${body}`);
}

function approvalTable(context: PageContext, pending: readonly PendingApproval[], back: string): Html {
  return html`<table class="approvals"><thead><tr><th>task</th><th>tool</th><th>input</th><th>requested</th><th>decide</th></tr></thead>
<tbody>${pending.map(
    (approval) => html`<tr data-request="${requestIdOf(approval)}"><td><a href="/runs/${approval.taskID}"><code>${approval.taskID}</code></a></td>
<td>${approval.toolName} <code>${approval.toolCallId}</code></td><td><pre>${shortJson(approval.input, 1000)}</pre></td><td>${formatWhen(approval.requestedAt)}</td>
<td>${actionForm(context, '/approvals/decide', 'Approve', { ...decisionFields(approval), approved: 'true', back })}
${actionForm(context, '/approvals/decide', 'Deny', { ...decisionFields(approval), approved: 'false', back }, html`<input name="reason" placeholder="reason">`)}</td></tr>`,
  )}</tbody></table>`;
}

/** Which request a decision is for: its request id where the store gives one, and the tool call id. */
function decisionFields(approval: PendingApproval): Record<string, string> {
  const requestId = requestIdOf(approval);
  return { taskID: approval.taskID, toolCallId: approval.toolCallId, ...(requestId ? { requestId } : {}) };
}

function requestIdOf(approval: PendingApproval): string {
  const requestId = (approval as { requestId?: unknown }).requestId;
  return typeof requestId === 'string' ? requestId : '';
}

function failureText(reason: unknown): string {
  if (reason && typeof reason === 'object') {
    const record = reason as Record<string, unknown>;
    const head = `${typeof record.name === 'string' ? `${record.name}: ` : ''}${typeof record.message === 'string' ? record.message : shortJson(reason)}`;
    return typeof record.stack === 'string' && record.stack.length > 0 ? `${head}\n${record.stack}` : head;
  }
  return shortJson(reason);
}

export function messagePage(context: PageContext, title: string, message: string, status: 'error' | 'info' = 'info'): Html {
  return page(title, context, html`<p class="message ${status}">${message}</p><p><a href="/">Back to the queues</a></p>`);
}

/** The script of the run page's live view: reads the run's UI message stream and shows its text. */
export const liveStreamScript = `
(() => {
  const target = document.getElementById('stream');
  if (!target) return;
  const state = document.getElementById('stream-state');
  const url = '/runs/' + encodeURIComponent(target.dataset.task) + '/stream';
  const source = new EventSource(url);
  const seen = new Set();
  source.onmessage = (event) => {
    if (event.data === '[DONE]') { source.close(); if (state) state.textContent = 'Stream finished.'; return; }
    let chunk;
    try { chunk = JSON.parse(event.data); } catch { return; }
    if (chunk.type === 'text-delta') target.textContent += chunk.delta;
    else if (chunk.type === 'tool-input-available' && !seen.has(chunk.toolCallId)) { seen.add(chunk.toolCallId); target.textContent += '\\n[tool ' + chunk.toolName + ']\\n'; }
    else if (chunk.type === 'error') { target.textContent += '\\n[error] ' + chunk.errorText; }
    else if (chunk.type === 'finish') { if (state) state.textContent = 'Stream finished.'; }
  };
  source.onerror = () => { if (state) state.textContent = 'Stream closed.'; source.close(); };
})();
`;
