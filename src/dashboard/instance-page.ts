/**
 * The instance page: summary, parent/children links, input, output, custom status, failure details, the
 * history as a timeline (Gantt) and as a table.
 */
import { isTerminalStatus, type FailureDetails, type HistoryEvent } from '../sdk/history.js';
import type { DurableOrchestrationStatus } from '../sdk/durable-client.js';
import { formatDuration, formatTime, parsePayload, prettyJson, preview } from './format.js';
import { utcTime } from './time.js';
import { html, props, type SafeHtml } from './html.js';
import { instanceHref, statusBadge, tagChips } from './layout.js';
import { instanceDuration } from './list-query.js';
import { buildTimeline, childInstances, describeEntityMessage, parentInstance, type TimelineSpan } from './timeline.js';
import { describePatchMarker, readPatchMarker } from '../core/patch-markers.js';
import type { Registry } from '../sdk/registry.js';
import { waitingFor } from './waiting-for.js';
import { waitingSection } from './waiting-card.js';
import type { FlowWaitingActivity } from '../store/store.js';

/**
 * Renders the page body of one instance (its status must carry the history). With the app's `registry` the
 * execution is replayed to say what it waits for (see waiting-for.ts); `flowWaits` are its flow-controlled
 * activities not leased now, shown with the limit that holds them back.
 */
export async function instancePage(status: DurableOrchestrationStatus, now: number, registry?: Registry, flowWaits: readonly FlowWaitingActivity[] = []): Promise<SafeHtml> {
  const history = status.history ?? [];
  const waits = await waitingFor(history, registry);
  const parent = parentInstance(history);
  const children = childInstances(history);
  const terminal = isTerminalStatus(status.runtimeStatus);
  const started = history.find((e) => e.eventType === 'ExecutionStarted');
  const version = status.version ?? (started?.eventType === 'ExecutionStarted' ? started.version : undefined);
  return html`
<nav class="crumbs"><a href="/dashboard">Instances</a> / <span class="mono">${status.instanceId}</span></nav>
<div class="page-head">
  <h1>${status.name}</h1>
  <div class="head-actions">
    <a class="button" id="download-history" href="${instanceHref(status.instanceId)}/history.jsonl" download>Download history (JSON)</a>
    <div data-island="refresh" data-props="${props({ interval: 2000, enabled: !terminal })}"></div>
  </div>
</div>
<div data-island="instance-actions" data-props="${props({ instanceId: status.instanceId, name: status.name, status: status.runtimeStatus })}"></div>
<div id="instance-view" data-refresh>
<section class="card summary">
  <dl>
    <dt>Instance ID</dt><dd class="mono" id="instance-id">${status.instanceId}</dd>
    <dt>Status</dt><dd id="instance-status">${statusBadge(status.runtimeStatus)}</dd>
    <dt>Created</dt><dd>${utcTime(status.createdTime)}</dd>
    <dt>Last updated</dt><dd>${utcTime(status.lastUpdatedTime)}</dd>
    <dt>${terminal ? 'Ran for' : 'Running for'}</dt><dd>${formatDuration(instanceDuration(status, now))}</dd>
    ${version ? html`<dt>Version</dt><dd id="instance-version">${version}</dd>` : ''}
    ${status.tags
      ? html`<dt>Tags</dt><dd id="instance-tags">${tagChips(status.tags, (key, value) => `/dashboard?${new URLSearchParams({ tag: `${key}=${value}` }).toString()}`)}</dd>`
      : ''}
    ${status.flowControl ? html`<dt>Flow control</dt><dd id="instance-flow">${flowText(status)}</dd>` : ''}
    ${status.priority !== undefined ? html`<dt>Priority</dt><dd id="instance-priority">${String(status.priority)}</dd>` : ''}
    ${parent ? html`<dt>Parent</dt><dd><a class="mono" href="${instanceHref(parent.instanceId)}" data-link="parent">${parent.instanceId}</a> (${parent.name})</dd>` : ''}
    ${children.length
      ? html`<dt>Children</dt><dd><ul class="children">${children.map(
          (c) => html`<li><a class="mono" href="${instanceHref(c.instanceId)}" data-link="child">${c.instanceId}</a> (${c.name})</li>`,
        )}</ul></dd>`
      : ''}
  </dl>
</section>
${terminal ? '' : waitingSection(status, waits, history, now, flowWaits)}
${status.failureDetails ? failure(status.failureDetails) : ''}
<div class="payloads">
  ${payload('Input', 'input', status.input)}
  ${payload('Output', 'output', status.output)}
  ${payload('Custom status', 'custom-status', status.customStatus)}
</div>
<section class="card" id="timeline"><h2>Timeline</h2>${timeline(history, now, waits.cancelledTimers)}</section>
<section class="card" id="tasks"><h2>Tasks <span class="muted">(one row per task: scheduled → finished)</span></h2>${taskTable(history, now, waits.cancelledTimers)}</section>
<section class="card" id="history"><h2>History <span class="muted">(${history.length} events of the current execution)</span></h2>${historyTable(history)}</section>
</div>`;
}

/** The instance's limits, and what a Pending one with limits may be waiting for. */
function flowText(status: DurableOrchestrationStatus): string {
  const { concurrency, rate } = status.flowControl ?? {};
  const parts = [
    ...(concurrency ? [`at most ${concurrency.limit} at once for key '${concurrency.key}'`] : []),
    ...(rate ? [`at most ${rate.limit} starts per ${rate.periodMs} ms for key '${rate.key}'`] : []),
  ];
  const waiting = status.runtimeStatus === 'Pending' ? ' — Pending: waits for its turn within these limits' : '';
  return `${parts.join('; ')}${waiting}`;
}

function payload(title: string, id: string, value: unknown): SafeHtml {
  return html`<section class="card payload" id="${id}"><h2>${title}</h2>${
    value === undefined ? html`<p class="muted">none</p>` : html`<pre class="json">${prettyJson(value)}</pre>`
  }</section>`;
}

/**
 * The failure, the user's own error first: the innermost failure (an activity's TypeError inside the
 * TaskFailedError of the orchestration that awaited it) with its stack open, then what it was reported as.
 */
function failure(details: FailureDetails): SafeHtml {
  const chain: FailureDetails[] = [];
  for (let d: FailureDetails | undefined = details; d && chain.length < 10; d = d.inner) chain.push(d);
  chain.reverse();
  return html`<section class="card failure" id="failure"><h2>Failure</h2>${chain.map(
    (d, i) => html`<div class="failure-item" data-depth="${chain.length - 1 - i}">
  ${i > 0 ? html`<div class="muted">reported as</div>` : ''}
  <p><strong>${d.errorType}</strong>: ${d.message}${d.isNonRetriable ? html` <span class="muted">(non-retriable)</span>` : ''}</p>
  ${d.stack ? html`<details ${i === 0 ? 'open' : ''}><summary>Stack trace</summary><pre class="stack">${d.stack}</pre></details>` : ''}
</div>`,
  )}</section>`;
}

const KIND_LABELS: Record<TimelineSpan['kind'], string> = {
  orchestration: 'orchestration',
  activity: 'activity',
  'sub-orchestration': 'sub-orchestration',
  timer: 'timer',
  'event-raised': 'event received',
  'event-sent': 'sent',
  suspended: 'suspended',
  marker: '',
};

function timeline(history: readonly HistoryEvent[], now: number, cancelledTimers: ReadonlySet<number>): SafeHtml {
  const model = buildTimeline(history, now, cancelledTimers);
  if (model.spans.length === 0) return html`<p class="muted">No history yet.</p>`;
  const total = Math.max(1, model.end - model.start);
  const x = (t: number) => ((t - model.start) / total) * 1000;
  const rows = model.spans.map((span) => {
    const end = span.end ?? (span.kind === 'timer' && span.fireAt !== undefined ? Math.max(now, span.fireAt) : now);
    const duration = end - span.start;
    const left = x(span.start);
    const width = Math.max(2, x(end) - left);
    const point = span.outcome === 'point' || span.outcome === 'cancelled';
    const label =
      span.kind === 'timer' && span.fireAt !== undefined
        ? `${span.outcome === 'cancelled' ? 'cancelled, was due' : 'until'} ${new Date(span.fireAt).toISOString().slice(11, 23)}`
        : span.label;
    const tip = `${KIND_LABELS[span.kind]} ${label}${span.taskId !== undefined ? ` #${span.taskId}` : ''}: ${formatTime(span.start)} UTC${
      point ? '' : ` → ${span.end !== undefined ? `${formatTime(span.end)} UTC` : 'now'} (${formatDuration(duration)})`
    }${span.error ? ` — ${span.error}` : ''}`;
    return html`<div class="gantt-row kind-${span.kind} outcome-${span.outcome}" data-kind="${span.kind}" data-outcome="${span.outcome}">
  <div class="gantt-label" title="${tip}"><span class="kind">${KIND_LABELS[span.kind]}</span> ${
    span.instanceId && span.kind === 'sub-orchestration' ? html`<a href="${instanceHref(span.instanceId)}">${label}</a>` : label
  }${span.taskId !== undefined ? html` <span class="muted">#${span.taskId}</span>` : ''}</div>
  <div class="gantt-track"><svg viewBox="0 0 1000 10" preserveAspectRatio="none" aria-hidden="true">${
    point ? html`<rect class="gantt-point" x="${Math.min(996, left).toFixed(2)}" y="0" width="4" height="10"></rect>` : html`<rect class="gantt-bar" x="${left.toFixed(2)}" y="1" width="${width.toFixed(2)}" height="8"></rect>`
  }<title>${tip}</title></svg></div>
  <div class="gantt-duration">${point ? formatTime(span.start).slice(11) : span.end === undefined ? html`${formatDuration(duration)}…` : formatDuration(duration)}</div>
</div>`;
  });
  return html`<div class="gantt-axis"><span>${utcTime(model.start)}</span><span>${formatDuration(total)}</span><span>${utcTime(model.end)}</span></div>
<div class="gantt">${rows}</div>
<div class="legend"><span class="key outcome-completed"></span>completed <span class="key outcome-failed"></span>failed <span class="key outcome-open"></span>running / waiting <span class="key outcome-terminated"></span>terminated <span class="key outcome-cancelled"></span>cancelled</div>`;
}

/** The fields of an event worth a column of their own. */
function eventName(event: HistoryEvent): string {
  const marker = readPatchMarker(event);
  if (marker) return describePatchMarker(marker);
  const entity = describeEntityMessage(event);
  if (entity) return entity.label;
  const e = event as unknown as Record<string, unknown>;
  return typeof e['name'] === 'string' ? e['name'] : '';
}

function eventRef(event: HistoryEvent): string {
  const e = event as unknown as Record<string, unknown>;
  if (typeof e['taskScheduledId'] === 'number') return `→ #${e['taskScheduledId']}`;
  if (typeof e['timerId'] === 'number') return `→ #${e['timerId']}`;
  return event.eventId >= 0 ? `#${event.eventId}` : '';
}

/** Details of an event: its payloads (parsed JSON), failure, fire time, target instance. */
function eventDetails(event: HistoryEvent): SafeHtml {
  const e = event as unknown as Record<string, unknown>;
  const parts: SafeHtml[] = [];
  const payloadField = (label: string, text: unknown) => {
    if (typeof text !== 'string') return;
    const value = parsePayload(text);
    const short = preview(value, 80);
    parts.push(
      short.length < 80
        ? html`<div><span class="muted">${label}:</span> <code>${short}</code></div>`
        : html`<details><summary><span class="muted">${label}:</span> <code>${short}</code></summary><pre class="json">${prettyJson(value)}</pre></details>`,
    );
  };
  if (typeof e['version'] === 'string') parts.push(html`<div><span class="muted">version:</span> ${e['version']}</div>`);
  payloadField('input', e['input']);
  payloadField('result', e['result']);
  payloadField('data', e['data']);
  if (typeof e['reason'] === 'string') parts.push(html`<div><span class="muted">reason:</span> ${e['reason']}</div>`);
  if (typeof e['fireAt'] === 'string') parts.push(html`<div><span class="muted">fires at:</span> ${utcTime(e['fireAt'])}</div>`);
  if (typeof e['orchestrationStatus'] === 'string') parts.push(html`<div>${statusBadge(e['orchestrationStatus'])}</div>`);
  if (event.eventType === 'SubOrchestrationInstanceCreated' || event.eventType === 'EventSent') {
    parts.push(html`<div><span class="muted">instance:</span> <a class="mono" href="${instanceHref(event.instanceId)}">${event.instanceId}</a></div>`);
  }
  const failureDetails = e['failureDetails'] as FailureDetails | undefined;
  if (failureDetails) {
    parts.push(
      html`<details><summary class="error-text">${failureDetails.errorType}: ${failureDetails.message}</summary>${failureDetails.stack ? html`<pre class="stack">${failureDetails.stack}</pre>` : ''}</details>`,
    );
  }
  return html`${parts}`;
}

function historyTable(history: readonly HistoryEvent[]): SafeHtml {
  if (history.length === 0) return html`<p class="muted">No history yet.</p>`;
  const start = Math.min(...history.map((e) => Date.parse(e.timestamp)));
  const rows = history.map(
    (event, i) => html`<tr class="event-${event.eventType}" data-event-type="${event.eventType}">
  <td class="num">${i}</td>
  <td class="nowrap">${utcTime(event.timestamp, { unit: false })}<span class="muted">.${event.timestamp.slice(20, 23)}</span></td>
  <td class="nowrap muted">+${formatDuration(Date.parse(event.timestamp) - start)}</td>
  <td>${event.eventType}</td>
  <td class="nowrap">${eventRef(event)}</td>
  <td>${eventName(event)}</td>
  <td class="details">${eventDetails(event)}</td>
</tr>`,
  );
  return html`<table class="history"><thead><tr><th>#</th><th>Time (UTC)</th><th>Elapsed</th><th>Event</th><th>Id</th><th>Name</th><th>Details</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The compact history: each activity, sub-orchestration and timer with when it was scheduled, how it ended and how long it took. */
function taskTable(history: readonly HistoryEvent[], now: number, cancelledTimers: ReadonlySet<number>): SafeHtml {
  const spans = buildTimeline(history, now, cancelledTimers).spans.filter((s) => s.kind === 'activity' || s.kind === 'sub-orchestration' || s.kind === 'timer');
  if (spans.length === 0) return html`<p class="muted">No tasks.</p>`;
  const rows = spans.map((s) => {
    const outcome = s.outcome === 'open' ? (s.kind === 'timer' ? 'waiting' : 'running') : s.outcome;
    const name = s.kind === 'timer' && s.fireAt !== undefined ? html`due ${utcTime(s.fireAt)}` : s.label;
    return html`<tr data-task="${s.taskId ?? ''}" data-outcome="${s.outcome}">
  <td class="num">${s.taskId ?? ''}</td><td>${KIND_LABELS[s.kind]}</td>
  <td>${s.kind === 'sub-orchestration' && s.instanceId ? html`<a href="${instanceHref(s.instanceId)}">${name}</a>` : name}</td>
  <td class="nowrap">${utcTime(s.start, { unit: false })}</td><td class="nowrap">${s.end !== undefined && s.outcome !== 'cancelled' ? utcTime(s.end, { unit: false }) : ''}</td>
  <td class="nowrap">${s.outcome === 'cancelled' ? '' : s.end !== undefined ? formatDuration(s.end - s.start) : html`${formatDuration(now - s.start)}…`}</td>
  <td class="outcome-${s.outcome}">${outcome}${s.error ? html`: <span class="error-text">${s.error}</span>` : ''}</td>
</tr>`;
  });
  return html`<table class="history tasks"><thead><tr><th>#</th><th>Kind</th><th>Name</th><th>Scheduled (UTC)</th><th>Finished (UTC)</th><th>Took</th><th>Outcome</th></tr></thead><tbody>${rows}</tbody></table>`;
}
