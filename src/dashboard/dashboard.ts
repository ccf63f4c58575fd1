/**
 * The web dashboard, mounted on the host's hono app under `/dashboard`: the instance list, instance pages,
 * entities, schedules, static assets and the action endpoints. Pages are rendered on the server from the store-backed
 * client (every value through the escaping `html` template); small preact islands add auto-refresh and the
 * actions. With an API key configured every page and action requires it (see `auth.ts`).
 */
import type { Context, Hono } from 'hono';
import type { DurableClient } from '../sdk/durable-client.js';
import { userFacingNames } from '../sdk/internal-names.js';
import { isTerminalStatus } from '../sdk/history.js';
import type { Logger } from '../sdk/logger.js';
import type { Registry } from '../sdk/registry.js';
import type { Store } from '../store/store.js';
import { registerActions } from './actions.js';
import { ASSET_PREFIX, serveAsset } from './assets.js';
import { isAuthorized, isSameOriginPost, safeEqual, safeNext, sessionCookie } from './auth.js';
import { entitiesPage, entityPage, loadEntities, loadEntity } from './entities-page.js';
import { html, type SafeHtml } from './html.js';
import { instancePage } from './instance-page.js';
import { exportInstance } from '../client/instance-export.js';
import { layout, PAGE_HEADERS, type LayoutOptions } from './layout.js';
import { listPage, type ListPageModel } from './list-page.js';
import { ListParamError, parseListParams } from './list-query.js';
import { loadList } from './list-load.js';
import { ANY_NAME } from '../store/store.js';
import { schedulePage, schedulesPage } from './schedules-page.js';

/** What the dashboard needs from the host (the HTTP host's context has exactly these fields). */
export interface DashboardHost {
  app: { taskHub: string; registry: Registry };
  store: Store;
  /** The API key; undefined leaves the dashboard open. */
  apiKey: string | undefined;
  logger?: Logger;
  /** A store-backed client of a task hub. */
  clientFor(taskHub: string): DurableClient;
}


/**
 * Names offered by the start and signal pickers: what the hub's workers serve plus this app's own. The
 * wildcard registration of a gRPC worker that serves any name is not a name to offer.
 */
async function registeredNames(host: DashboardHost): Promise<{ orchestrations: string[]; entities: string[] }> {
  const served = await host.store.hub(host.app.taskHub).getRegisteredNames();
  const own = host.app.registry.names();
  const union = (a: string[] = [], b: string[]) => userFacingNames(new Set([...a, ...b])).filter((name) => name !== ANY_NAME).sort();
  return { orchestrations: union(served?.orchestrations, own.orchestrations), entities: union(served?.entities, own.entities) };
}

/** Serves the dashboard on `http` under `/dashboard`. */
export function mountDashboard(http: Hono, host: DashboardHost): void {
  const client = () => host.clientFor(host.app.taskHub);
  const frame = (c: Context, section: LayoutOptions['section'], title: string, body: SafeHtml, status = 200) =>
    c.body(layout({ title, taskHub: host.app.taskHub, section, signedIn: host.apiKey !== undefined && section !== 'login' }, body).value, status as 200, PAGE_HEADERS);
  const secure = (c: Context) => new URL(c.req.url).protocol === 'https:';

  // Static files need no key: they hold no data, and the login page needs its stylesheet.
  http.get(`${ASSET_PREFIX}*`, async (c) => (await serveAsset(new URL(c.req.url).pathname)) ?? c.text('Not found', 404));

  http.get('/dashboard/login', (c) => frame(c, 'login', 'Sign in', loginForm(safeNext(c.req.query('next')))));
  // Sign-in and sign-out are form POSTs: only a page of this host may send them (no login or logout CSRF).
  const foreignForm = (c: Context) =>
    isSameOriginPost(c.req.raw) ? undefined : frame(c, 'login', 'Refused', errorPage('Sign-in and sign-out are accepted only from the dashboard’s own pages.', 'Refused'), 403);
  http.post('/dashboard/login', async (c) => {
    const refused = foreignForm(c);
    if (refused) return refused;
    const form = await c.req.parseBody();
    const key = typeof form['key'] === 'string' ? form['key'] : '';
    const next = safeNext(typeof form['next'] === 'string' ? form['next'] : undefined);
    if (host.apiKey !== undefined && !safeEqual(key, host.apiKey)) return frame(c, 'login', 'Sign in', loginForm(next, 'That key is not valid.'), 401);
    return c.body(null, 303, { location: next, 'set-cookie': sessionCookie(host.apiKey, secure(c)) });
  });
  http.post('/dashboard/logout', (c) => foreignForm(c) ?? c.body(null, 303, { location: '/dashboard/login', 'set-cookie': sessionCookie(undefined, secure(c)) }));

  // Also matches `/dashboard` itself.
  http.use('/dashboard/*', async (c, next) => {
    const url = new URL(c.req.url);
    if (host.apiKey === undefined || url.pathname.startsWith(ASSET_PREFIX) || url.pathname === '/dashboard/login' || url.pathname === '/dashboard/logout') {
      return next();
    }
    // `?code=<key>` once: trade it for the session cookie and drop it from the address bar.
    const code = url.searchParams.get('code');
    url.searchParams.delete('code');
    if (code !== null && safeEqual(code, host.apiKey)) {
      return c.body(null, 303, { location: url.pathname + url.search, 'set-cookie': sessionCookie(host.apiKey, secure(c)) });
    }
    if (isAuthorized(c.req.raw, host.apiKey)) return next();
    if (url.pathname.startsWith('/dashboard/api/')) {
      return c.json({ error: 'UnauthorizedError', message: 'Sign in to the dashboard (or send the API key as x-functions-key).' }, 401);
    }
    return frame(c, 'login', 'Sign in', loginForm(safeNext(url.pathname + url.search), code !== null ? 'That key is not valid.' : undefined), 401);
  });

  registerActions(http, client);

  // A failing page is one error page (logged), never a stack trace.
  const page = (fn: (c: Context) => Promise<Response>) => async (c: Context) => {
    try {
      return await fn(c);
    } catch (error) {
      host.logger?.error('dashboard page failed', error);
      return frame(c, 'instances', 'Error', errorPage(`${(error as Error).name}: ${(error as Error).message}`), 500);
    }
  };

  http.get(
    '/dashboard',
    page(async (c) => {
      const now = Date.now();
      const names = await registeredNames(host);
      let params;
      try {
        params = parseListParams(new URL(c.req.url).searchParams);
      } catch (error) {
        if (!(error instanceof ListParamError)) throw error;
        const model: ListPageModel = { params: parseListParams(new URLSearchParams()), error: error.message, startNames: names.orchestrations, now };
        return frame(c, 'instances', 'Instances', listPage(model), 400);
      }
      const result = await loadList(host.store.hub(host.app.taskHub), params, { now });
      return frame(c, 'instances', 'Instances', listPage({ params, result, startNames: names.orchestrations, now }));
    }),
  );

  http.get(
    '/dashboard/instances/:id',
    page(async (c) => {
      const id = c.req.param('id') ?? '';
      let status;
      try {
        status = await client().getStatus(id, { showHistory: true, showHistoryOutput: true });
      } catch (error) {
        if ((error as Error).name !== 'ValidationError') throw error;
      }
      if (!status) return frame(c, 'instances', 'Not found', errorPage(`No instance '${id}' in task hub '${host.app.taskHub}'.`, 'Not found'), 404);
      // Only the instance's own rows (its index): which of its activities a concurrency key or rate holds back.
      const flowWaits = isTerminalStatus(status.runtimeStatus) ? [] : await host.store.hub(host.app.taskHub).flowWaitingActivities(id, 100);
      return frame(c, 'instances', `${status.name} ${id}`, await instancePage(status, Date.now(), host.app.registry, flowWaits));
    }),
  );

  // "Download history (JSON)": the instance in the export format (one JSON line), under the dashboard's own sign-in.
  http.get('/dashboard/instances/:id/history.jsonl', async (c) => {
    const id = c.req.param('id') ?? '';
    try {
      const record = await exportInstance(client(), id);
      const name = id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'instance';
      return c.body(JSON.stringify(record) + '\n', 200, {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="${name}.history.jsonl"`,
        'cache-control': 'no-store',
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'InstanceNotFoundError' || name === 'ValidationError') return c.json({ error: name, message: (error as Error).message }, 404);
      throw error;
    }
  });

  http.get(
    '/dashboard/entities',
    page(async (c) => {
      const names = await registeredNames(host);
      const model = await loadEntities(client(), new URL(c.req.url).searchParams, names.entities);
      return frame(c, 'entities', 'Entities', entitiesPage(model), model.error ? 400 : 200);
    }),
  );

  http.get(
    '/dashboard/entities/:name/:key',
    page(async (c) => {
      const name = c.req.param('name') ?? '';
      const key = c.req.param('key') ?? '';
      const entity = await loadEntity(client(), name, key);
      if (!entity) return frame(c, 'entities', 'Not found', errorPage(`No entity '${name}' with key '${key}'.`, 'Not found'), 404);
      return frame(c, 'entities', `${entity.name} ${entity.key}`, entityPage(entity));
    }),
  );

  http.get(
    '/dashboard/schedules',
    page(async (c) => frame(c, 'schedules', 'Schedules', schedulesPage(await client().listSchedules()))),
  );

  http.get(
    '/dashboard/schedules/:id',
    page(async (c) => {
      const id = c.req.param('id') ?? '';
      let schedule;
      try {
        schedule = await client().getSchedule(id);
      } catch (error) {
        if ((error as Error).name !== 'ValidationError') throw error;
      }
      if (!schedule) return frame(c, 'schedules', 'Not found', errorPage(`No schedule '${id}' in task hub '${host.app.taskHub}'.`, 'Not found'), 404);
      return frame(c, 'schedules', `Schedule ${id}`, schedulePage(schedule));
    }),
  );

  http.all('/dashboard/api/*', (c) => c.json({ error: 'NotFound', message: `No dashboard action ${c.req.method} ${new URL(c.req.url).pathname}.` }, 404));
  http.get('/dashboard/*', (c) => frame(c, 'instances', 'Not found', errorPage('There is no such dashboard page.', 'Not found'), 404));
}

function loginForm(next: string, error?: string): SafeHtml {
  return html`<section class="card login">
<h1>Sign in</h1>
<p>This duraflow host requires its API key (<code>DURAFLOW_API_KEY</code>). You can also open <code>/dashboard?code=&lt;key&gt;</code> once.</p>
${error ? html`<div class="banner error" role="alert">${error}</div>` : ''}
<form method="post" action="/dashboard/login">
  <input type="hidden" name="next" value="${next}">
  <label>API key <input type="password" name="key" autocomplete="current-password" autofocus required></label>
  <button type="submit" class="primary">Sign in</button>
</form>
</section>`;
}

function errorPage(message: string, title = 'Something went wrong'): SafeHtml {
  return html`<section class="card"><h1>${title}</h1><p>${message}</p><p><a href="/dashboard">Back to the instance list</a></p></section>`;
}
