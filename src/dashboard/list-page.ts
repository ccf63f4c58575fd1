/** The instance list page: counts per status, filters, histogram of starts, the sortable paged table. */
import type { RuntimeStatus } from '../sdk/history.js';
import { formatDuration, formatTime, preview } from './format.js';
import type { Histogram } from './histogram.js';
import { utcTime } from './time.js';
import { html, props, type SafeHtml } from './html.js';
import { instanceHref, statusBadge, tagChips } from './layout.js';
import { ALL_STATUSES, PAGE_SIZES, instanceDuration, listQueryString, type ListParams, type SortKey } from './list-query.js';
import { PAGE_SCAN_LIMIT, type ListResult } from './list-load.js';

/** Everything the list page shows. */
export interface ListPageModel {
  params: ListParams;
  result?: ListResult;
  /** A bad parameter, shown instead of the table. */
  error?: string;
  /** Orchestration names a new instance may be started with. */
  startNames: string[];
  now: number;
}

/** Renders the list page body. */
export function listPage(model: ListPageModel): SafeHtml {
  const { params, result } = model;
  return html`
<div class="page-head">
  <h1>Instances</h1>
  <div class="head-actions">
    <div data-island="refresh" data-props="${props({ interval: 5000, enabled: true })}"></div>
    <div data-island="start-instance" data-props="${props({ names: model.startNames })}"></div>
  </div>
</div>
${model.error ? html`<div class="banner error" role="alert">${model.error}</div>` : ''}
<section id="status-counts" data-refresh class="counts">${result ? counts(params, result) : ''}</section>
${filterForm(params, model.startNames, result?.versions ?? [])}
<section id="histogram" data-refresh class="card">${result ? histogram(result.histogram, params, result.countWindow) : ''}</section>
<section id="instances" data-refresh class="card">${result ? table(params, result, model.now) : ''}</section>
<div class="below-table">
  <div data-island="purge-filter" data-props="${props({ filter: filterOf(params) })}"></div>
</div>`;
}

/** The filter as the purge-by-filter action receives it. */
function filterOf(params: ListParams): Record<string, unknown> {
  return {
    statuses: params.statuses,
    ...(params.name ? { name: params.name } : {}),
    ...(params.prefix ? { prefix: params.prefix } : {}),
    ...(params.version ? { version: params.version } : {}),
    ...(params.tags ? { tags: params.tags } : {}),
    ...(params.from ? { from: params.from.toISOString() } : {}),
    ...(params.to ? { to: params.to.toISOString() } : {}),
  };
}

function counts(params: ListParams, result: ListResult): SafeHtml {
  const all = Object.values(result.counts).reduce((a, b) => a + b, 0);
  const bound = (status: RuntimeStatus) => (result.atLeast.includes(status) ? '+' : '');
  const chip = (status: RuntimeStatus) => {
    const active = params.statuses.includes(status);
    const next = active ? params.statuses.filter((s) => s !== status) : [...params.statuses, status];
    return html`<a class="chip status-${status.toLowerCase()} ${active ? 'active' : ''}" href="?${listQueryString(params, { statuses: next, after: undefined })}"
      title="${active ? 'Remove from' : 'Add to'} the status filter"><span class="chip-label">${status}</span><span class="chip-count" data-count="${status}">${result.counts[status]}${bound(status)}</span></a>`;
  };
  return html`<a class="chip all ${params.statuses.length === 0 ? 'active' : ''}" href="?${listQueryString(params, { statuses: [], after: undefined })}">
      <span class="chip-label">All</span><span class="chip-count" data-count="All">${all}${result.atLeast.length ? '+' : ''}</span></a>
    ${ALL_STATUSES.filter((s) => result.counts[s] > 0 || params.statuses.includes(s)).map(chip)}
    ${result.countWindow ? html`<span class="muted" title="Pending, Running and Suspended are exact; finished statuses have no index of their own, so they are counted among the newest ${result.countWindow.toLocaleString('en-US')} matching instances.">(n+: at least n, counted among the newest ${result.countWindow.toLocaleString('en-US')} matching — narrow the time range for exact counts)</span>` : ''}`;
}

const localInput = (date: Date | undefined) => (date ? date.toISOString().slice(0, 19) : '');

function filterForm(params: ListParams, names: string[], versions: string[]): SafeHtml {
  return html`<form class="filters card" method="get" action="/dashboard">
  <fieldset class="statuses"><legend>Status</legend>
    ${ALL_STATUSES.map(
      (s) => html`<label><input type="checkbox" name="status" value="${s}" ${params.statuses.includes(s) ? 'checked' : ''}> ${s}</label>`,
    )}
  </fieldset>
  <label>Name <input name="name" value="${params.name ?? ''}" list="orchestration-names" placeholder="contains…"></label>
  <datalist id="orchestration-names">${names.map((n) => html`<option value="${n}"></option>`)}</datalist>
  <label>Instance id prefix <input name="prefix" value="${params.prefix ?? ''}" placeholder="prefix…"></label>
  <label>Version <input name="version" value="${params.version ?? ''}" list="orchestration-versions" placeholder="any" size="8"></label>
  <datalist id="orchestration-versions">${versions.map((v) => html`<option value="${v}"></option>`)}</datalist>
  <fieldset class="tag-filter"><legend>Tags</legend>
    ${Object.entries(params.tags ?? {}).map(([key, value]) => html`<input name="tag" value="${`${key}=${value}`}" size="14" aria-label="Tag filter">`)}
    <input name="tag" value="" placeholder="key=value" size="14" aria-label="Add a tag filter">
  </fieldset>
  <label>Created from (UTC) <input type="datetime-local" step="1" name="from" value="${localInput(params.from)}"></label>
  <label>Created to (UTC) <input type="datetime-local" step="1" name="to" value="${localInput(params.to)}"></label>
  <label>Per page <select name="size">${PAGE_SIZES.map((n) => html`<option value="${n}" ${n === params.pageSize ? 'selected' : ''}>${n}</option>`)}</select></label>
  ${params.sort !== 'created' || params.dir !== 'desc' ? html`<input type="hidden" name="sort" value="${params.sort}"><input type="hidden" name="dir" value="${params.dir}">` : ''}
  <div class="filter-buttons"><button type="submit" class="primary">Apply</button> <a class="button" href="/dashboard">Clear</a></div>
</form>`;
}

function histogram(model: Histogram, params: ListParams, window: number | undefined): SafeHtml {
  if (model.bins.length === 0) return html`<h2>Starts over time</h2><p class="muted">No instances match.</p>`;
  const width = 1000;
  const height = 120;
  const max = Math.max(1, ...model.bins.map((b) => b.total));
  const barWidth = width / model.bins.length;
  const groups = ['completed', 'failed', 'running', 'other'] as const;
  const bars = model.bins.map((bin, i) => {
    let y = height;
    const rects = groups.map((group) => {
      const h = (bin.groups[group] / max) * (height - 4);
      if (h <= 0) return '';
      y -= h;
      return html`<rect class="bar-${group}" x="${(i * barWidth + 1).toFixed(2)}" y="${y.toFixed(2)}" width="${Math.max(1, barWidth - 2).toFixed(2)}" height="${h.toFixed(2)}"></rect>`;
    });
    const range = { from: new Date(bin.start), to: new Date(bin.end - 1), after: undefined };
    const title = `${formatTime(bin.start)} – ${formatTime(bin.end)} UTC: ${bin.total} started (${groups.map((g) => `${bin.groups[g]} ${g}`).join(', ')})`;
    return html`<a href="?${listQueryString(params, range)}"><title>${title}</title><rect class="bar-hit" x="${(i * barWidth).toFixed(2)}" y="0" width="${barWidth.toFixed(2)}" height="${height}"></rect>${rects}</a>`;
  });
  const first = model.bins[0]!;
  const last = model.bins[model.bins.length - 1]!;
  const span = window ? `the newest ${window.toLocaleString('en-US')} matching instances, ` : '';
  return html`<h2>Starts over time <span class="muted">(${span}${formatDuration(model.binMs)} per bar; click a bar to zoom in)</span></h2>
<svg class="histogram" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="Instances started over time">${bars}</svg>
<div class="axis"><span>${utcTime(first.start)}</span><span class="legend">
  <span class="key bar-completed"></span>completed <span class="key bar-failed"></span>failed <span class="key bar-running"></span>running/pending <span class="key bar-other"></span>other</span>
  <span>${utcTime(last.end)}</span></div>`;
}

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'id', label: 'Instance ID' },
  { key: 'name', label: 'Name' },
  { key: 'version', label: 'Version' },
  { key: 'status', label: 'Status' },
  { key: 'created', label: 'Created (UTC)' },
  { key: 'updated', label: 'Last updated (UTC)' },
  { key: 'duration', label: 'Duration' },
];

function table(params: ListParams, result: ListResult, now: number): SafeHtml {
  // Arrows show the sort applied (newest first when the chosen one is too big to sort in memory).
  const header = COLUMNS.map(({ key, label }) => {
    const current = result.sort === key;
    const dir = current ? (result.dir === 'asc' ? 'desc' : 'asc') : key === 'created' || key === 'updated' || key === 'duration' ? 'desc' : 'asc';
    const arrow = current ? (result.dir === 'asc' ? ' ▲' : ' ▼') : '';
    return html`<th aria-sort="${current ? (result.dir === 'asc' ? 'ascending' : 'descending') : 'none'}"><a href="?${listQueryString(params, { sort: key, dir, after: undefined })}" data-sort="${key}">${label}${arrow}</a></th>`;
  });
  const rows = result.rows.map(
    (i) => html`<tr data-instance-id="${i.instanceId}">
  <td class="mono"><a href="${instanceHref(i.instanceId)}">${i.instanceId}</a></td>
  <td>${i.name}</td>
  <td class="version">${i.version ?? ''}</td>
  <td>${statusBadge(i.runtimeStatus)}</td>
  <td class="nowrap">${utcTime(i.createdTime, { unit: false })}</td>
  <td class="nowrap">${utcTime(i.lastUpdatedTime, { unit: false })}</td>
  <td class="nowrap">${formatDuration(instanceDuration(i, now))}</td>
  <td class="tags">${tagChips(i.tags, (key, value) => `?${listQueryString(params, { tags: { ...params.tags, [key]: value }, after: undefined })}`)}</td>
  <td class="preview" title="${preview(i.customStatus, 500)}">${preview(i.customStatus, 60)}</td>
</tr>`,
  );
  const pager = html`<div class="pager">
  <span class="muted">${result.total}${result.totalAtLeast ? '+' : ''} matching${result.next && result.rows.length < params.pageSize ? ` (this page looked at the next ${PAGE_SCAN_LIMIT.toLocaleString('en-US')} instances only: no index serves these filters)` : ''}</span>
  ${params.after ? html`<a class="button" href="?${listQueryString(params, { after: undefined })}">« First page</a>` : ''}
  ${result.next ? html`<a class="button" rel="next" href="?${listQueryString(params, { sort: result.sort, dir: result.dir, after: result.next })}">${result.rows.length < params.pageSize ? 'Search further »' : 'Next page »'}</a>` : ''}
</div>`;
  return html`${result.sortNote ? html`<div class="banner" role="status">${result.sortNote}</div>` : ''}<table class="instances">
<thead><tr>${header}<th>Tags</th><th>Custom status</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="9" class="empty">No instances match these filters.</td></tr>`}</tbody>
</table>
${pager}`;
}
