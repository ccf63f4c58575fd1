/**
 * The dashboard's action endpoints (`POST /dashboard/api/…`, JSON in and out), each a thin call on the
 * durable client: start, raise event, terminate, suspend, resume, rewind, restart, purge one or by filter,
 * signal an entity, and pause, resume or trigger a schedule. Typed client errors become the statuses of the management API (400, 404, 410, 413).
 */
import type { Context, Hono } from 'hono';
import type { RuntimeStatus } from '../sdk/history.js';
import type { DurableClient } from '../sdk/durable-client.js';
import { checkTags } from '../sdk/tags.js';
import { ValidationError, httpStatusOfError } from '../sdk/errors.js';
import { EntityId } from '../sdk/entity-id.js';
import { ACTION_HEADER } from './auth.js';
import { ALL_STATUSES } from './list-query.js';

/** Errors of the dashboard's own parsing that are bad requests too. */
const BAD_REQUEST_ERRORS = new Set(['ListParamError', 'SyntaxError']);

/** An error as the islands show it: `{ error, message }` with the management API's status for it. */
export function errorResponse(c: Context, error: unknown): Response {
  const name = error instanceof Error ? error.name : 'Error';
  const status = httpStatusOfError(error) ?? (BAD_REQUEST_ERRORS.has(name) ? 400 : 500);
  const message = error instanceof Error ? error.message : String(error);
  return c.json({ error: name, message }, status as 400);
}

/** Parses the JSON text a user typed; empty means no value. */
export function parseUserJson(text: unknown, what: string): unknown {
  if (text === undefined || text === null) return undefined;
  if (typeof text !== 'string') throw new ValidationError(`${what} must be JSON text.`);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

async function body(c: Context): Promise<Record<string, unknown>> {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
    throw new ValidationError('Dashboard actions take a JSON body (content-type: application/json).');
  }
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new ValidationError('The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('The request body must be a JSON object.');
  return value as Record<string, unknown>;
}

const optionalString = (value: unknown, what: string): string | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ValidationError(`${what} must be a string.`);
  return value;
};

/** The purge-by-filter request: the list page's filters. */
interface PurgeFilter {
  statuses?: unknown;
  name?: unknown;
  prefix?: unknown;
  from?: unknown;
  to?: unknown;
  version?: unknown;
  tags?: unknown;
}

const PURGE_FILTER_KEYS = new Set(['statuses', 'name', 'prefix', 'from', 'to', 'version', 'tags']);

function date(value: unknown, what: string): Date | undefined {
  const text = optionalString(value, what);
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ValidationError(`${what} must be an ISO-8601 time.`);
  return new Date(ms);
}

/** Purges the finished instances (never entities) that the list shows for `filter`; returns how many. */
async function purgeByFilter(client: DurableClient, filter: PurgeFilter): Promise<number> {
  // A filter it cannot read is refused: a dropped filter would purge more than the list shows.
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new ValidationError('filter must be a JSON object.');
  const unknown = Object.keys(filter).filter((key) => !PURGE_FILTER_KEYS.has(key));
  if (unknown.length) throw new ValidationError(`Unknown purge filter field(s): ${unknown.join(', ')} (use ${[...PURGE_FILTER_KEYS].join(', ')}).`);
  if (filter.statuses !== undefined && filter.statuses !== null && !Array.isArray(filter.statuses)) {
    throw new ValidationError('filter.statuses must be an array of runtime statuses.');
  }
  const statuses: unknown[] = filter.statuses ?? [];
  for (const s of statuses) if (!ALL_STATUSES.includes(s as RuntimeStatus)) throw new ValidationError(`Unknown status '${String(s)}'.`);
  const name = optionalString(filter.name, 'name')?.toLowerCase();
  const prefix = optionalString(filter.prefix, 'prefix');
  const from = date(filter.from, 'from');
  const to = date(filter.to, 'to');
  const version = optionalString(filter.version, 'version');
  const tags = checkTags(filter.tags, 'filter.tags');
  const finished = new Set<string>(['Completed', 'Failed', 'Terminated', 'Canceled']);
  const matches = await client.getStatusBy({
    ...(prefix ? { instanceIdPrefix: prefix } : {}),
    ...(version ? { version } : {}),
    ...(tags ? { tags } : {}),
    ...(from ? { createdTimeFrom: from } : {}),
    ...(to ? { createdTimeTo: to } : {}),
  });
  let deleted = 0;
  for (const instance of matches) {
    if (instance.instanceId.startsWith('@') || !finished.has(instance.runtimeStatus)) continue;
    if (statuses.length && !statuses.includes(instance.runtimeStatus)) continue;
    if (name !== undefined && !instance.name.toLowerCase().includes(name)) continue;
    deleted += (await client.purgeInstanceHistory(instance.instanceId)).instancesDeleted;
  }
  return deleted;
}

/** Registers the action endpoints on `http` (auth is checked by the caller's middleware). */
export function registerActions(http: Hono, client: () => DurableClient): void {
  // A cross-site form can neither set this header nor send JSON without a CORS preflight we never grant.
  http.use('/dashboard/api/*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.header(ACTION_HEADER) !== '1') {
      return c.json({ error: 'ForbiddenError', message: `Dashboard actions must send the '${ACTION_HEADER}: 1' header.` }, 403);
    }
    return next();
  });

  const handle = (fn: (c: Context) => Promise<unknown>) => async (c: Context) => {
    try {
      const result = await fn(c);
      return result instanceof Response ? result : c.json(result ?? { ok: true });
    } catch (error) {
      return errorResponse(c, error);
    }
  };

  http.post(
    '/dashboard/api/start',
    handle(async (c) => {
      const b = await body(c);
      const name = optionalString(b['name'], 'name');
      if (!name) throw new ValidationError('Pick an orchestration to start.');
      const instanceId = optionalString(b['instanceId'], 'instance id');
      const input = parseUserJson(b['input'], 'Input');
      const id = await client().startNew(name, { ...(instanceId ? { instanceId } : {}), ...(input !== undefined ? { input } : {}) });
      return { instanceId: id };
    }),
  );

  http.post(
    '/dashboard/api/purge',
    handle(async (c) => ({ instancesDeleted: await purgeByFilter(client(), ((await body(c))['filter'] ?? {}) as PurgeFilter) })),
  );

  http.post(
    '/dashboard/api/instances/:id/:action',
    handle(async (c) => {
      const id = c.req.param('id') ?? '';
      const action = c.req.param('action') ?? '';
      const b = await body(c);
      const reason = optionalString(b['reason'], 'reason');
      const api = client();
      switch (action) {
        case 'raise': {
          const eventName = optionalString(b['eventName'], 'event name');
          if (!eventName) throw new ValidationError('An event name is required.');
          await api.raiseEvent(id, eventName, parseUserJson(b['data'], 'Event data'));
          return { ok: true };
        }
        case 'terminate':
          return api.terminate(id, reason);
        case 'suspend':
          return api.suspend(id, reason);
        case 'resume':
          return api.resume(id, reason);
        case 'rewind':
          return api.rewind(id, reason);
        case 'restart':
          return { instanceId: await api.restart(id, { restartWithNewInstanceId: b['newInstanceId'] !== false }) };
        case 'purge':
          return api.purgeInstanceHistory(id);
        default:
          return c.json({ error: 'NotFound', message: `Unknown action '${action}'.` }, 404);
      }
    }),
  );

  http.post(
    '/dashboard/api/schedules/:id/:action',
    handle(async (c) => {
      const id = c.req.param('id') ?? '';
      const action = c.req.param('action') ?? '';
      const b = await body(c);
      switch (action) {
        case 'pause':
          return client().pauseSchedule(id, optionalString(b['reason'], 'reason'));
        case 'resume':
          return client().resumeSchedule(id);
        case 'trigger':
          return { instanceId: await client().triggerSchedule(id) };
        default:
          return c.json({ error: 'NotFound', message: `Unknown schedule action '${action}'.` }, 404);
      }
    }),
  );

  http.post(
    '/dashboard/api/entities/signal',
    handle(async (c) => {
      const b = await body(c);
      const name = optionalString(b['name'], 'entity name');
      const key = typeof b['key'] === 'string' ? b['key'] : undefined;
      const operation = optionalString(b['operation'], 'operation');
      if (!name || key === undefined || !operation) throw new ValidationError('An entity name, key and operation are required.');
      await client().signalEntity(new EntityId(name, key), operation, parseUserJson(b['input'], 'Operation input'));
      return { ok: true };
    }),
  );
}
