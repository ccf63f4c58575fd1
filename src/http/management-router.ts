/**
 * The Durable Functions management API (reference §3), mounted under `/runtime/webhooks/durabletask/` and
 * `/durabletask/`. Every handler validates all of its input (query, headers, body) before it writes
 * anything, so a refused request changes nothing.
 */
import { exportResponse } from './export-route.js';
import { traceContextFromHeaders } from '../telemetry/trace-parent.js';
import { Hono, type Context } from 'hono';
import { isTerminalStatus } from '../sdk/history.js';
import { checkStatusResponse, checkWaitOptions, completionResponse, managementPayload, originOf } from '../client/http-management.js';
import type { StoreClient } from '../client/store-client.js';
import { InstanceNotFoundError } from '../sdk/errors.js';
import { requireKey } from './auth.js';
import { isJsonContentType, readJsonBody } from './body.js';
import { entityRouter } from './entity-router.js';
import { scheduleRouter } from './schedule-router.js';
import type { HostContext } from './host-context.js';
import { HttpError } from './http-errors.js';
import { Query, taskHubOf } from './query.js';
import { statusPayload, type StatusFormat } from './status-payload.js';
import { presentedKey } from '../sdk/api-key.js';

/** Retry-After of a status query on a running instance (the extension's value). */
const STATUS_RETRY_AFTER_SECONDS = '5';

/** The routes of the management API, relative to its base path. */
export function managementRouter(ctx: HostContext): Hono {
  const router = new Hono({ strict: false });
  router.use('*', requireKey(ctx.apiKey));

  const scope = (c: Context) => {
    const query = new Query(c.req.url);
    const taskHub = taskHubOf(query, ctx.app.taskHub);
    return { query, taskHub, client: ctx.clientFor(taskHub) };
  };
  /** Where the management URLs of a response point; the key is echoed only to a caller who put it in the URL itself. */
  const location = (c: Context, taskHub: string) => {
    const usedCode = ctx.apiKey !== undefined && new URL(c.req.url).searchParams.get('code') === presentedKey(c.req.raw);
    return { origin: originOf(c.req.raw, 'http://127.0.0.1'), taskHub, ...(usedCode ? { apiKey: ctx.apiKey } : {}) };
  };
  const waitOptions = (query: Query) => {
    const timeout = query.seconds('timeout');
    const interval = query.seconds('pollingInterval');
    if (timeout === undefined || interval === undefined) return undefined;
    checkWaitOptions(timeout, Math.max(interval, 1));
    return timeout;
  };
  /** 202 check-status, or (with `timeout` and `pollingInterval`) the wait-for-completion answer. */
  const started = async (c: Context, client: StoreClient, taskHub: string, instanceId: string, timeout: number | undefined) => {
    const payload = managementPayload(location(c, taskHub), instanceId);
    if (timeout === undefined) return checkStatusResponse(payload);
    const status = await client.waitForCompletion(instanceId, { timeoutInMilliseconds: timeout });
    return completionResponse(status, payload);
  };

  // Start: POST orchestrators/{functionName}[/{instanceId}], body = input; version, tags and priority in the query.
  router.post('/orchestrators/:functionName/:instanceId?', async (c) => {
    const { query, taskHub, client } = scope(c);
    const timeout = waitOptions(query);
    const version = query.string('version');
    const tags = query.tags();
    const priorityText = query.string('priority');
    // A priority that is not an integer is refused by startNew (400), as every bad start option is.
    const priority = priorityText === undefined ? undefined : /^-?\d+$/.test(priorityText) ? Number(priorityText) : priorityText;
    const input = await readJsonBody(c.req.raw, ctx.maxBodyBytes);
    const instanceId = c.req.param('instanceId');
    // A caller's W3C trace context parents the instance (a malformed header is ignored, as the spec says).
    const traceContext = traceContextFromHeaders(c.req.header('traceparent'), c.req.header('tracestate'));
    const id = await client.startNew(c.req.param('functionName'), {
      input,
      ...(instanceId !== undefined ? { instanceId } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(tags ? { tags } : {}),
      ...(traceContext ? { traceContext } : {}),
      ...(priority !== undefined ? { priority: priority as number } : {}),
    });
    return started(c, client, taskHub, id, timeout);
  });

  // Status of one instance: 200 finished, 202 + Location + Retry-After while running, 404 unknown.
  router.get('/instances/:instanceId', async (c) => {
    const { query, client } = scope(c);
    const instanceId = c.req.param('instanceId');
    const options = {
      showHistory: query.bool('showHistory', false),
      showHistoryOutput: query.bool('showHistoryOutput', false),
      showInput: query.bool('showInput', true),
    };
    const failAsServerError = query.bool('returnInternalServerErrorOnFailure', false);
    const format = formatOf(query);
    const status = await client.getStatus(instanceId, options);
    if (!status) throw new InstanceNotFoundError(instanceId);
    const body = statusPayload(status, format);
    if (!isTerminalStatus(status.runtimeStatus)) {
      return c.json(body, 202, { location: c.req.url, 'retry-after': STATUS_RETRY_AFTER_SECONDS });
    }
    return c.json(body, status.runtimeStatus === 'Failed' && failAsServerError ? 500 : 200);
  });

  // List with filters and continuation-token paging.
  router.get('/instances', async (c) => {
    const { query, client } = scope(c);
    const filter = filterOf(query);
    const showInput = query.bool('showInput', true);
    const pageSize = query.top('top', 100);
    const format = formatOf(query);
    const token = c.req.header('x-ms-continuation-token');
    const page = await client.listInstances({ ...filter, showInput, pageSize, ...(token && token !== 'null' ? { continuationToken: token } : {}) });
    return c.json(
      page.instances.map((s) => statusPayload(s, format)),
      200,
      page.continuationToken ? { 'x-ms-continuation-token': page.continuationToken } : {},
    );
  });

  // History export, JSON Lines (see export-route.ts); not under /instances, where 'export' would be an instance id.
  router.get('/export', async (c) => {
    const { query, client } = scope(c);
    const ids = c.req.queries('instanceId') ?? [];
    return exportResponse(client, ids, ids.length ? {} : filterOf(query));
  });

  // Purge one instance: 200 { instancesDeleted }, 404 unknown; recursive=true (a duraflow extension) purges the
  // finished instances of its tree with it.
  router.delete('/instances/:instanceId', async (c) => {
    const { query, client } = scope(c);
    const instanceId = c.req.param('instanceId');
    const recursive = query.bool('recursive', false);
    const result = await client.purgeInstanceHistory(instanceId, { recursive });
    if (result.instancesDeleted === 0) throw new InstanceNotFoundError(instanceId);
    return c.json(result, 200);
  });

  // Purge by filter: createdTimeFrom is required; 404 when nothing was deleted.
  router.delete('/instances', async (c) => {
    const { query, client } = scope(c);
    const filter = filterOf(query);
    if (!filter.createdTimeFrom) throw new HttpError(400, "Query parameter 'createdTimeFrom' is required to purge instances by filter.");
    const result = await client.purgeInstanceHistoryBy({ ...filter, createdTimeTo: filter.createdTimeTo ?? new Date() });
    if (result.instancesDeleted === 0) return c.json({ ...result, Message: 'No instances matched the filter.' }, 404);
    return c.json(result, 200);
  });

  // Raise an event: the body must be JSON, declared as application/json.
  router.post('/instances/:instanceId/raiseEvent/:eventName', async (c) => {
    const { client } = scope(c);
    if (!isJsonContentType(c.req.raw)) {
      throw new HttpError(400, `Only application/json request content is supported (got '${c.req.header('content-type') ?? 'none'}').`);
    }
    const data = await readJsonBody(c.req.raw, ctx.maxBodyBytes);
    await client.raiseEvent(c.req.param('instanceId'), c.req.param('eventName'), data);
    return c.body(null, 202);
  });

  // terminate also takes recursive=true (a duraflow extension): its running sub-orchestrations end with it.
  router.post('/instances/:instanceId/terminate', async (c) => {
    const { query, client } = scope(c);
    const recursive = query.bool('recursive', false);
    await client.terminate(c.req.param('instanceId'), query.string('reason'), { recursive });
    return c.body(null, 202);
  });
  for (const operation of ['suspend', 'resume', 'rewind'] as const) {
    router.post(`/instances/:instanceId/${operation}`, async (c) => {
      const { query, client } = scope(c);
      await client[operation](c.req.param('instanceId'), query.string('reason'));
      return c.body(null, 202);
    });
  }

  // Restart: like a start of the same orchestration with the same input; an unknown instance is a 400 here.
  router.post('/instances/:instanceId/restart', async (c) => {
    const { query, taskHub, client } = scope(c);
    const restartWithNewInstanceId = query.bool('restartWithNewInstanceId', true);
    const timeout = waitOptions(query);
    let id: string;
    try {
      id = await client.restart(c.req.param('instanceId'), { restartWithNewInstanceId });
    } catch (error) {
      if (error instanceof InstanceNotFoundError) throw new HttpError(400, error.message, error.name);
      throw error;
    }
    return started(c, client, taskHub, id, timeout);
  });

  router.route('/entities', entityRouter(ctx));
  router.route('/schedules', scheduleRouter(ctx));

  // Azure's app-lease failover: a duraflow host has no primary, every worker is active.
  router.post('/makeprimary', (c) => c.json({ Message: 'duraflow has no app lease: every worker is active.' }, 200));
  return router;
}

function formatOf(query: Query): StatusFormat {
  const format = query.string('format');
  if (format === undefined || format === '' || format === 'functions') return 'functions';
  if (format === 'duraflow') return 'duraflow';
  throw new HttpError(400, `Query parameter 'format' must be 'functions' or 'duraflow', got '${format}'.`);
}

function filterOf(query: Query) {
  const createdTimeFrom = query.date('createdTimeFrom');
  const createdTimeTo = query.date('createdTimeTo');
  if (createdTimeFrom && createdTimeTo && createdTimeFrom > createdTimeTo) {
    throw new HttpError(400, "Query parameter 'createdTimeFrom' must not be after 'createdTimeTo'.");
  }
  const runtimeStatus = query.statuses('runtimeStatus');
  const instanceIdPrefix = query.string('instanceIdPrefix');
  const version = query.string('version');
  const tags = query.tags();
  return {
    ...(version !== undefined ? { version } : {}),
    ...(tags ? { tags } : {}),
    ...(createdTimeFrom ? { createdTimeFrom } : {}),
    ...(createdTimeTo ? { createdTimeTo } : {}),
    ...(runtimeStatus ? { runtimeStatus } : {}),
    ...(instanceIdPrefix ? { instanceIdPrefix } : {}),
  };
}
