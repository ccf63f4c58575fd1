/** The instance page's "Waiting for" card (the model comes from waiting-for.ts). */
import type { DurableOrchestrationStatus } from '../sdk/durable-client.js';
import type { HistoryEvent } from '../sdk/history.js';
import { formatDuration } from './format.js';
import { utcTime } from './time.js';
import { html, type SafeHtml } from './html.js';
import { instanceHref } from './layout.js';
import { entityLabel } from './timeline.js';
import type { WaitingFor, WaitItem } from './waiting-for.js';
import type { FlowWaitingActivity } from '../store/store.js';

/**
 * The "Waiting for" card of a running, pending or suspended instance; `flowWaits` are its flow-controlled
 * activities not leased now (`HubStore.flowWaitingActivities`), which say the limit that holds them back.
 */
export function waitingSection(
  status: DurableOrchestrationStatus,
  waits: WaitingFor,
  history: readonly HistoryEvent[],
  now: number,
  flowWaits: readonly FlowWaitingActivity[] = [],
): SafeHtml {
  const held = new Map(flowWaits.map((a) => [a.taskId, a]));
  const notes: SafeHtml[] = [];
  if (status.runtimeStatus === 'Suspended') notes.push(html`<li data-wait="resume">a <strong>resume</strong>: it is suspended (events and results wait in its inbox)</li>`);
  if (status.runtimeStatus === 'Pending') {
    const started = history.find((e) => e.eventType === 'ExecutionStarted');
    const at = started?.eventType === 'ExecutionStarted' ? started.scheduledStartTime : undefined;
    notes.push(at ? html`<li data-wait="start">its scheduled start at ${utcTime(at)}</li>` : html`<li data-wait="start">a worker to start it</li>`);
  }
  const items = waits.items.map((item) => {
    const flow = item.kind === 'activity' ? held.get(item.taskId) : undefined;
    return html`<li data-wait="${item.kind}">${waitItem(item, now)}${flow ? heldBack(flow) : ''}</li>`;
  });
  const unknown = waits.replayed ? '' : html`<p class="muted">The orchestrator is not registered in this app, so the events it waits for are unknown; open work is read from the history.</p>`;
  const body = notes.length + items.length ? html`<ul class="waits">${notes}${items}</ul>` : html`<p class="muted">Nothing: its next episode is due.</p>`;
  return html`<section class="card" id="waiting-for"><h2>Waiting for</h2>${body}${unknown}</section>`;
}

function waitItem(item: WaitItem, now: number): SafeHtml {
  switch (item.kind) {
    case 'event':
      return html`event <code>${item.name}</code>`;
    case 'timer':
      return html`timer <span class="muted">#${item.taskId}</span>, fires at ${utcTime(item.fireAt)} (${item.fireAt > now ? `in ${formatDuration(item.fireAt - now)}` : 'due now'})`;
    case 'activity':
      return html`activity <code>${item.name}</code> <span class="muted">#${item.taskId}</span>, scheduled ${formatDuration(Math.max(0, now - item.since))} ago`;
    case 'sub-orchestration':
      return html`sub-orchestration <a class="mono" href="${instanceHref(item.instanceId)}">${item.instanceId}</a> (${item.name}) <span class="muted">#${item.taskId}</span>`;
    case 'entity-call':
      return html`call of <code>${entityLabel(item.entity)}</code> <code>${item.operation}</code> <span class="muted">#${item.taskId}</span>`;
    case 'lock':
      return html`${item.held ? 'its lock on' : 'the lock it requested on'} ${item.entities.map((e, i) => html`${i ? ', ' : ''}<code>${entityLabel(e)}</code>`)}${item.held ? ' (held: released when its critical section ends)' : ''}`;
  }
}

/** Why a waiting flow-controlled activity is not claimed: its key has its limit leased, or used its rate this period. */
function heldBack(a: FlowWaitingActivity): SafeHtml | '' {
  const { concurrency, rate } = a.flow;
  const reasons: SafeHtml[] = [];
  if (concurrency && a.leased >= concurrency.limit) {
    reasons.push(html`waiting for concurrency key <code>${concurrency.key}</code> (limit ${String(concurrency.limit)}, ${String(a.leased)} running)`);
  }
  if (rate && a.started >= rate.limit) {
    reasons.push(html`waiting for rate limit key <code>${rate.key}</code> (${String(rate.limit)} per ${formatDuration(rate.periodMs)})`);
  }
  return reasons.length ? html` — <span class="flow-wait" data-flow-wait>${reasons.map((r, i) => html`${i ? '; ' : ''}${r}`)}</span>` : '';
}
