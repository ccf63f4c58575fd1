/**
 * The entity routes of the management API (reference §3): signal (`POST entities/{name}/{key}?op=`), read
 * (`GET entities/{name}/{key}`), delete (`DELETE`, which signals the operation `delete`), list
 * (`GET entities[/{name}]`, paged by `x-ms-continuation-token`), and duraflow's `POST entities/clean`
 * (cleanEntityStorage). An empty key travels as `$`. Every input is checked before anything is written.
 */
import { Hono, type Context } from 'hono';
import { EntityId } from '../sdk/entity-id.js';
import { ValidationError } from '../sdk/errors.js';
import { apiTime } from '../client/http-management.js';
import { isJsonContentType, readBodyText } from './body.js';
import type { HostContext } from './host-context.js';
import { HttpError } from './http-errors.js';
import { Query, taskHubOf } from './query.js';

/** Routes under `entities/`. */
export function entityRouter(ctx: HostContext): Hono {
  const router = new Hono({ strict: false });
  const scope = (c: Context) => {
    const query = new Query(c.req.url);
    return { query, client: ctx.clientFor(taskHubOf(query, ctx.app.taskHub)) };
  };

  router.post('/clean', async (c) => {
    const { query, client } = scope(c);
    const result = await client.cleanEntityStorage({
      removeEmptyEntities: query.bool('removeEmptyEntities', true),
      releaseOrphanedLocks: query.bool('releaseOrphanedLocks', true),
    });
    return c.json(result, 200);
  });

  router.post('/:name/:key', async (c) => {
    const { query, client } = scope(c);
    const entityId = entityIdOf(c);
    const operation = query.string('op');
    if (!operation) throw new HttpError(400, "Signalling an entity needs the operation name: '?op=<operation>'.");
    const scheduledTime = query.date('scheduledTime');
    const text = await readBodyText(c.req.raw, ctx.maxBodyBytes);
    const input = text === '' ? undefined : isJsonContentType(c.req.raw) ? parseJson(text) : text;
    await client.signalEntity(entityId, operation, input, scheduledTime ? { scheduledTime } : {});
    return c.body(null, 202);
  });

  router.delete('/:name/:key', async (c) => {
    const { client } = scope(c);
    await client.signalEntity(entityIdOf(c), 'delete');
    return c.body(null, 202);
  });

  router.get('/:name/:key', async (c) => {
    const { client } = scope(c);
    const entityId = entityIdOf(c);
    const { entityExists, entityState } = await client.readEntityState(entityId);
    if (!entityExists) return c.json({ message: `Entity '${entityId}' does not exist.` }, 404);
    return c.body(JSON.stringify(entityState ?? null), 200, { 'content-type': 'application/json' });
  });

  const list = async (c: Context, entityName: string | undefined) => {
    const { query, client } = scope(c);
    const token = c.req.header('x-ms-continuation-token');
    const page = await client.listEntities({
      ...(entityName !== undefined ? { entityName } : {}),
      ...(query.string('entityNamePrefix') !== undefined ? { entityNamePrefix: query.string('entityNamePrefix')! } : {}),
      ...(query.date('lastOperationTimeFrom') ? { lastOperationTimeFrom: query.date('lastOperationTimeFrom')! } : {}),
      ...(query.date('lastOperationTimeTo') ? { lastOperationTimeTo: query.date('lastOperationTimeTo')! } : {}),
      fetchState: query.bool('fetchState', false),
      includeDeleted: query.bool('includeDeleted', false),
      pageSize: query.top('top', 100),
      ...(token && token !== 'null' ? { continuationToken: token } : {}),
    });
    const rows = page.entities.map((e) => ({
      entityId: { name: e.entityId.name, key: e.entityId.key },
      lastOperationTime: apiTime(e.lastOperationTime),
      ...('state' in e ? { state: e.state ?? null } : {}),
    }));
    return c.json(rows, 200, page.continuationToken ? { 'x-ms-continuation-token': page.continuationToken } : {});
  };
  router.get('/', (c) => list(c, undefined));
  router.get('/:name', (c) => list(c, entityNameOf(c.req.param('name'))));
  return router;
}

function entityNameOf(name: string): string {
  try {
    return new EntityId(name, '').name.toLowerCase();
  } catch (error) {
    throw new HttpError(400, (error as ValidationError).message);
  }
}

function entityIdOf(c: Context): EntityId {
  const key = c.req.param('key') ?? '';
  try {
    return new EntityId(c.req.param('name') ?? '', key === '$' ? '' : key);
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}
