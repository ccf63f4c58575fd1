/**
 * The schedule routes of the management API (duraflow's own; Durable Functions has none): `GET schedules`,
 * `POST schedules` (create: 201; 400 for a bad schedule, 409 for a taken id), `GET schedules/{id}` (404 when
 * unknown), `PATCH schedules/{id}` (update), `DELETE schedules/{id}` (204), `POST schedules/{id}/pause?reason=`,
 * `POST schedules/{id}/resume` and `POST schedules/{id}/trigger` (202 with the run's management payload). Bodies
 * are JSON objects (times as ISO strings); every input is checked before anything is written.
 */
import { Hono, type Context } from 'hono';
import { managementPayload, originOf } from '../client/http-management.js';
import { scheduleOptionsFromJson, scheduleToJson } from '../client/schedule-wire.js';
import { ScheduleNotFoundError } from '../sdk/errors.js';
import { presentedKey } from '../sdk/api-key.js';
import { isJsonContentType, readJsonBody } from './body.js';
import type { HostContext } from './host-context.js';
import { HttpError } from './http-errors.js';
import { Query, taskHubOf } from './query.js';

/** Routes under `schedules/`. */
export function scheduleRouter(ctx: HostContext): Hono {
  const router = new Hono({ strict: false });
  const scope = (c: Context) => {
    const query = new Query(c.req.url);
    const taskHub = taskHubOf(query, ctx.app.taskHub);
    return { query, taskHub, client: ctx.clientFor(taskHub) };
  };
  const jsonBody = async (c: Context) => {
    if (!isJsonContentType(c.req.raw)) {
      throw new HttpError(400, `Only application/json request content is supported (got '${c.req.header('content-type') ?? 'none'}').`);
    }
    return readJsonBody(c.req.raw, ctx.maxBodyBytes);
  };

  router.get('/', async (c) => {
    const { client } = scope(c);
    return c.json((await client.listSchedules()).map(scheduleToJson), 200);
  });

  router.post('/', async (c) => {
    const { client } = scope(c);
    const options = scheduleOptionsFromJson(await jsonBody(c), true);
    return c.json(scheduleToJson(await client.createSchedule(options)), 201);
  });

  router.get('/:scheduleId', async (c) => {
    const { client } = scope(c);
    const scheduleId = c.req.param('scheduleId');
    const schedule = await client.getSchedule(scheduleId);
    if (!schedule) throw new ScheduleNotFoundError(scheduleId);
    return c.json(scheduleToJson(schedule), 200);
  });

  router.patch('/:scheduleId', async (c) => {
    const { client } = scope(c);
    const changes = scheduleOptionsFromJson(await jsonBody(c), false);
    return c.json(scheduleToJson(await client.updateSchedule(c.req.param('scheduleId'), changes)), 200);
  });

  router.delete('/:scheduleId', async (c) => {
    const { client } = scope(c);
    await client.deleteSchedule(c.req.param('scheduleId'));
    return c.body(null, 204);
  });

  router.post('/:scheduleId/pause', async (c) => {
    const { query, client } = scope(c);
    return c.json(scheduleToJson(await client.pauseSchedule(c.req.param('scheduleId'), query.string('reason'))), 200);
  });

  router.post('/:scheduleId/resume', async (c) => {
    const { client } = scope(c);
    return c.json(scheduleToJson(await client.resumeSchedule(c.req.param('scheduleId'))), 200);
  });

  // Run now: 202 and the run's management URLs, as a start answers.
  router.post('/:scheduleId/trigger', async (c) => {
    const { taskHub, client } = scope(c);
    const instanceId = await client.triggerSchedule(c.req.param('scheduleId'));
    const usedCode = ctx.apiKey !== undefined && new URL(c.req.url).searchParams.get('code') === presentedKey(c.req.raw);
    const payload = managementPayload({ origin: originOf(c.req.raw, 'http://127.0.0.1'), taskHub, ...(usedCode ? { apiKey: ctx.apiKey } : {}) }, instanceId);
    return c.json(payload, 202, { location: payload.statusQueryGetUri });
  });
  return router;
}
