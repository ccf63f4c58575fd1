/**
 * The entity pages: a list (name, key, last operation, state, lock owner, operations waiting) and one page
 * per entity (state, lock owner, the queue of waiting operations). The state, queue and lock come from the
 * entity's scheduler state, which the entity instance (`@name@key`) keeps as its input.
 */
import type { DurableClient } from '../sdk/durable-client.js';
import { parsePayload, prettyJson, preview } from './format.js';
import { utcTime } from './time.js';
import { html, props, type SafeHtml } from './html.js';
import { instanceHref } from './layout.js';
import { ListParamError } from './list-query.js';

/** What an entity instance keeps as its input (the scheduler state). */
interface SchedulerState {
  exists?: boolean;
  state?: string;
  queue?: { id?: string; op?: string; signal?: boolean; input?: string; parent?: string; timestamp?: string; lockset?: string[] }[];
  lockedBy?: string;
}

/** One entity as the pages show it. */
export interface EntityView {
  name: string;
  key: string;
  instanceId: string;
  lastOperationTime?: Date;
  exists: boolean;
  state?: unknown;
  lockedBy?: string;
  queue: NonNullable<SchedulerState['queue']>;
}

/** The entity list's model. */
export interface EntitiesModel {
  entities: EntityView[];
  names: string[];
  filter: { name?: string; includeDeleted: boolean; after?: string; pageSize: number };
  next?: string;
  error?: string;
}

/** The id of an entity's instance: `@name@key` (names are case-insensitive, stored lower-case). */
export function entityInstanceId(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

/** The link to an entity's page. */
export function entityHref(name: string, key: string): string {
  return `/dashboard/entities/${encodeURIComponent(name)}/${encodeURIComponent(key)}`;
}

/** Reads the scheduler state of one entity; undefined when there is no such entity instance. */
export async function loadEntity(client: DurableClient, name: string, key: string): Promise<EntityView | undefined> {
  const instanceId = entityInstanceId(name, key);
  const status = await client.getStatus(instanceId, { showInput: true });
  if (!status) return undefined;
  const scheduler = (typeof status.input === 'object' && status.input !== null ? status.input : {}) as SchedulerState;
  const view: EntityView = {
    name: name.toLowerCase(),
    key,
    instanceId,
    lastOperationTime: status.lastUpdatedTime,
    exists: scheduler.exists ?? false,
    queue: Array.isArray(scheduler.queue) ? scheduler.queue : [],
  };
  if (scheduler.exists) view.state = parsePayload(scheduler.state);
  if (scheduler.lockedBy) view.lockedBy = scheduler.lockedBy;
  return view;
}

/** Loads a page of entities (`?name=&deleted=1&size=&after=`). */
export async function loadEntities(client: DurableClient, search: URLSearchParams, names: string[]): Promise<EntitiesModel> {
  const size = Number(search.get('size') || '50');
  const filter: EntitiesModel['filter'] = { includeDeleted: search.get('deleted') === '1', pageSize: Number.isInteger(size) && size >= 1 && size <= 1000 ? size : 50 };
  const name = search.get('name')?.trim();
  if (name) filter.name = name;
  const after = search.get('after');
  if (after) filter.after = after;
  const model: EntitiesModel = { entities: [], names, filter };
  try {
    const page = await client.listEntities({
      fetchState: true,
      includeDeleted: filter.includeDeleted,
      pageSize: filter.pageSize,
      ...(filter.name ? { entityName: filter.name } : {}),
      ...(filter.after ? { continuationToken: filter.after } : {}),
    });
    if (page.continuationToken) model.next = page.continuationToken;
    for (const entity of page.entities) {
      const view = await loadEntity(client, entity.entityId.name, entity.entityId.key);
      model.entities.push(
        view ?? { name: entity.entityId.name, key: entity.entityId.key, instanceId: entityInstanceId(entity.entityId.name, entity.entityId.key), exists: true, state: entity.state, queue: [] },
      );
    }
  } catch (error) {
    const name = (error as Error).name;
    if (name !== 'ValidationError' && !(error instanceof ListParamError)) throw error;
    model.error = (error as Error).message;
  }
  return model;
}

function query(filter: EntitiesModel['filter'], after?: string): string {
  const search = new URLSearchParams();
  if (filter.name) search.set('name', filter.name);
  if (filter.includeDeleted) search.set('deleted', '1');
  if (filter.pageSize !== 50) search.set('size', String(filter.pageSize));
  if (after) search.set('after', after);
  return search.toString();
}

/** Renders the entity list. */
export function entitiesPage(model: EntitiesModel): SafeHtml {
  const rows = model.entities.map(
    (e) => html`<tr data-entity="${e.instanceId}">
  <td>${e.name}</td>
  <td class="mono"><a href="${entityHref(e.name, e.key)}">${e.key}</a></td>
  <td class="nowrap">${e.lastOperationTime ? utcTime(e.lastOperationTime, { unit: false }) : ''}</td>
  <td class="preview" title="${preview(e.state, 500)}">${e.exists ? preview(e.state, 60) : html`<span class="muted">(no state)</span>`}</td>
  <td>${e.lockedBy ? html`<a class="mono" href="${instanceHref(e.lockedBy)}">${e.lockedBy}</a>` : ''}</td>
  <td class="num">${e.queue.length || ''}</td>
</tr>`,
  );
  return html`
<div class="page-head">
  <h1>Entities</h1>
  <div class="head-actions">
    <div data-island="refresh" data-props="${props({ interval: 5000, enabled: true })}"></div>
    <div data-island="signal-entity" data-props="${props({ names: model.names })}"></div>
  </div>
</div>
${model.error ? html`<div class="banner error" role="alert">${model.error}</div>` : ''}
<form class="filters card" method="get" action="/dashboard/entities">
  <label>Entity name <input name="name" value="${model.filter.name ?? ''}" list="entity-names" placeholder="exact name…"></label>
  <datalist id="entity-names">${model.names.map((n) => html`<option value="${n}"></option>`)}</datalist>
  <label class="check"><input type="checkbox" name="deleted" value="1" ${model.filter.includeDeleted ? 'checked' : ''}> include entities without state</label>
  <div class="filter-buttons"><button type="submit" class="primary">Apply</button> <a class="button" href="/dashboard/entities">Clear</a></div>
</form>
<section id="entities" data-refresh class="card">
<table class="entities"><thead><tr><th>Name</th><th>Key</th><th>Last operation (UTC)</th><th>State</th><th>Locked by</th><th>Waiting</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="6" class="empty">No entities.</td></tr>`}</tbody></table>
<div class="pager">
  ${model.filter.after ? html`<a class="button" href="?${query(model.filter)}">« First page</a>` : ''}
  ${model.next ? html`<a class="button" rel="next" href="?${query(model.filter, model.next)}">Next page »</a>` : ''}
</div>
</section>`;
}

/** Renders one entity's page. */
export function entityPage(entity: EntityView): SafeHtml {
  const queue = entity.queue.map(
    (m, i) => html`<tr>
  <td class="num">${i + 1}</td>
  <td>${m.op ?? (m.lockset ? 'lock request' : '')}</td>
  <td>${m.signal ? 'signal' : m.lockset ? 'lock' : 'call'}</td>
  <td>${m.parent ? html`<a class="mono" href="${instanceHref(m.parent)}">${m.parent}</a>` : html`<span class="muted">client</span>`}</td>
  <td class="nowrap">${m.timestamp ? utcTime(m.timestamp, { unit: false }) : ''}</td>
  <td class="preview">${preview(parsePayload(m.input), 80)}</td>
</tr>`,
  );
  return html`
<nav class="crumbs"><a href="/dashboard/entities">Entities</a> / ${entity.name} / <span class="mono">${entity.key}</span></nav>
<div class="page-head">
  <h1>${entity.name} <span class="muted mono">${entity.key}</span></h1>
  <div class="head-actions">
    <div data-island="refresh" data-props="${props({ interval: 2000, enabled: true })}"></div>
    <div data-island="signal-entity" data-props="${props({ names: [entity.name], name: entity.name, key: entity.key, fixed: true })}"></div>
  </div>
</div>
<div id="entity-view" data-refresh>
<section class="card summary"><dl>
  <dt>Instance ID</dt><dd class="mono">${entity.instanceId}</dd>
  <dt>Last operation</dt><dd>${entity.lastOperationTime ? utcTime(entity.lastOperationTime) : ''}</dd>
  <dt>Locked by</dt><dd id="entity-lock">${entity.lockedBy ? html`<a class="mono" href="${instanceHref(entity.lockedBy)}">${entity.lockedBy}</a>` : html`<span class="muted">not locked</span>`}</dd>
</dl></section>
<section class="card payload" id="entity-state"><h2>State</h2>${
    entity.exists ? html`<pre class="json">${prettyJson(entity.state)}</pre>` : html`<p class="muted">The entity has no state.</p>`
  }</section>
<section class="card" id="entity-queue"><h2>Waiting operations <span class="muted">(held while the entity is locked)</span></h2>${
    queue.length
      ? html`<table><thead><tr><th>#</th><th>Operation</th><th>Kind</th><th>From</th><th>Sent (UTC)</th><th>Input</th></tr></thead><tbody>${queue}</tbody></table>`
      : html`<p class="muted">None.</p>`
  }</section>
</div>`;
}
