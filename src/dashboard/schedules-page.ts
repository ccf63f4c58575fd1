/**
 * The schedule pages: a list (timing, state, next runs, last run with a link) and one page per schedule (its
 * definition, the next few due times, what happened at recent due times with links to the runs), both with the
 * pause / resume / trigger buttons (the `schedule-actions` island). Every value goes through the escaping
 * template: schedule ids, inputs and pause reasons are user data.
 */
import type { ScheduleDescription } from '../sdk/schedule.js';
import { scheduleTimes } from '../sdk/schedule-times.js';
import { formatDuration, prettyJson, preview } from './format.js';
import { utcTime } from './time.js';
import { html, props, type SafeHtml } from './html.js';
import { instanceHref } from './layout.js';

/** How many upcoming due times the pages show. */
const UPCOMING = 3;

/** The link to a schedule's page. */
export function scheduleHref(scheduleId: string): string {
  return `/dashboard/schedules/${encodeURIComponent(scheduleId)}`;
}

/** The next `count` due times of an Active schedule, from its next run on. */
export function upcomingRuns(s: ScheduleDescription, count = UPCOMING): Date[] {
  if (s.state !== 'Active' || !s.nextRunAt) return [];
  const times = scheduleTimes(s, s.startAt?.getTime() ?? s.nextRunAt.getTime());
  const out = [s.nextRunAt];
  for (let t: number | undefined = s.nextRunAt.getTime(); out.length < count && (t = times.next(t)) !== undefined; ) out.push(new Date(t));
  return out;
}

function timing(s: ScheduleDescription): SafeHtml {
  return s.cron !== undefined
    ? html`<code>${s.cron}</code>${s.timeZone ? html` <span class="muted">${s.timeZone}</span>` : html` <span class="muted">UTC</span>`}`
    : html`every ${formatDuration(s.every ?? 0)}`;
}

function stateBadge(s: ScheduleDescription): SafeHtml {
  return html`<span class="badge status-${s.state === 'Active' ? 'running' : 'suspended'}" data-schedule-state="${s.state}">${s.state}</span>`;
}

function actions(s: ScheduleDescription): SafeHtml {
  return html`<div data-island="schedule-actions" data-props="${props({ scheduleId: s.scheduleId, state: s.state })}"></div>`;
}

/** Renders the schedule list. */
export function schedulesPage(schedules: ScheduleDescription[]): SafeHtml {
  const rows = schedules.map(
    (s) => html`<tr data-schedule="${s.scheduleId}">
  <td class="mono"><a href="${scheduleHref(s.scheduleId)}">${s.scheduleId}</a></td>
  <td>${s.orchestration}</td>
  <td>${timing(s)}</td>
  <td>${stateBadge(s)}${s.pausedReason ? html` <span class="muted">${s.pausedReason}</span>` : ''}</td>
  <td class="nowrap" data-next-runs>${upcomingRuns(s).map((d, i) => html`${i ? html`<br>` : ''}${utcTime(d, { unit: false })}`)}</td>
  <td>${s.lastInstanceId ? html`<a class="mono" href="${instanceHref(s.lastInstanceId)}">${s.lastInstanceId}</a>` : html`<span class="muted">none yet</span>`}</td>
  <td>${actions(s)}</td>
</tr>`,
  );
  return html`
<div class="page-head">
  <h1>Schedules</h1>
  <div class="head-actions"><div data-island="refresh" data-props="${props({ interval: 5000, enabled: true })}"></div></div>
</div>
<section id="schedules" data-refresh class="card">
<table class="schedules"><thead><tr><th>Schedule</th><th>Orchestration</th><th>When</th><th>State</th><th>Next runs (UTC)</th><th>Last run</th><th></th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7" class="empty">No schedules. Create one with <code>client.createSchedule</code>, <code>app.schedule</code> or <code>duraflow schedules create</code>.</td></tr>`}</tbody></table>
</section>`;
}

/** Renders one schedule's page. */
export function schedulePage(s: ScheduleDescription): SafeHtml {
  const runs = s.recentRuns.map(
    (r) => html`<tr data-outcome="${r.outcome}">
  <td class="nowrap">${utcTime(r.dueAt, { unit: false })}${r.lastDueAt ? html` … ${utcTime(r.lastDueAt, { unit: false })}` : ''}</td>
  <td>${r.outcome}${r.count !== undefined ? html` <span class="muted">(${r.count})</span>` : ''}</td>
  <td>${r.instanceId ? html`<a class="mono" href="${instanceHref(r.instanceId)}">${r.instanceId}</a>` : ''}</td>
  <td class="nowrap muted">${utcTime(r.recordedAt)}</td>
</tr>`,
  );
  const upcoming = upcomingRuns(s, 5);
  return html`
<nav class="crumbs"><a href="/dashboard/schedules">Schedules</a> / <span class="mono">${s.scheduleId}</span></nav>
<div class="page-head">
  <h1><span class="mono">${s.scheduleId}</span> ${stateBadge(s)}</h1>
  <div class="head-actions">
    <div data-island="refresh" data-props="${props({ interval: 2000, enabled: true })}"></div>
    ${actions(s)}
  </div>
</div>
<div id="schedule-view" data-refresh>
<section class="card summary"><dl>
  <dt>Orchestration</dt><dd>${s.orchestration}${s.version !== undefined ? html` <span class="muted">version ${s.version}</span>` : ''}</dd>
  <dt>When</dt><dd>${timing(s)}</dd>
  ${s.startAt ? html`<dt>Not before</dt><dd>${utcTime(s.startAt)}</dd>` : ''}
  ${s.endAt ? html`<dt>Not after</dt><dd>${utcTime(s.endAt)}</dd>` : ''}
  <dt>Overlap</dt><dd>${s.overlap}</dd>
  <dt>Catch-up window</dt><dd>${formatDuration(s.catchUpWindowMs)}</dd>
  <dt>State</dt><dd>${s.state}${s.pausedReason ? html` — <span id="paused-reason">${s.pausedReason}</span>` : ''}</dd>
  ${s.bufferedRunAt ? html`<dt>Buffered run</dt><dd>${utcTime(s.bufferedRunAt)}, after the running instance ends</dd>` : ''}
  <dt>Declared in code</dt><dd>${s.declared ? 'yes (app.schedule)' : 'no'}</dd>
</dl></section>
<section class="card" id="schedule-next"><h2>Next runs <span class="muted">(UTC)</span></h2>${
    upcoming.length ? html`<ul class="plain">${upcoming.map((d) => html`<li class="mono">${utcTime(d, { unit: false })}</li>`)}</ul>` : html`<p class="muted">${s.state === 'Paused' ? 'Paused: no runs until resumed.' : 'No more runs.'}</p>`
  }</section>
${s.input !== undefined ? html`<section class="card payload"><h2>Input</h2><pre class="json" title="${preview(s.input, 200)}">${prettyJson(s.input)}</pre></section>` : ''}
<section class="card" id="schedule-runs"><h2>Recent due times</h2>${
    runs.length
      ? html`<table><thead><tr><th>Due (UTC)</th><th>Outcome</th><th>Instance</th><th>Recorded</th></tr></thead><tbody>${runs}</tbody></table>`
      : html`<p class="muted">None yet.</p>`
  }</section>
</div>`;
}
