/**
 * The dashboard's session cookie against a real host with an API key: it expires (Max-Age and an expiry the
 * MAC covers), a cookie of an old key stops working, a tampered expiry is refused, sign-out clears it and
 * only a dashboard page may send sign-in or sign-out — the HTTP host refuses cross-origin ones first, and the
 * dashboard refuses them again when mounted without the host's guards.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Hono } from 'hono';
import type { Host } from '../../src/app/df-app.js';
import { isSameOriginPost, isValidSession, SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, sessionToken } from '../../src/dashboard/auth.js';
import { mountDashboard, type DashboardHost } from '../../src/dashboard/dashboard.js';
import { Registry } from '../../src/sdk/registry.js';
import type { Store } from '../../src/store/store.js';
import { sqliteTestStore } from '../support/stores.js';
import { createDashboardApp } from './dashboard-app.js';

const KEY = 'session-key-1';
const EVIL = 'http://evil.example';
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Signs in with `?code=` and returns the `name=value` part of the cookie and the whole Set-Cookie. */
async function signIn(url: string, key: string): Promise<{ cookie: string; setCookie: string }> {
  const res = await fetch(`${url}/dashboard?code=${encodeURIComponent(key)}`, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, setCookie };
}

const pageStatus = async (url: string, cookie: string) => (await fetch(`${url}/dashboard`, { headers: { cookie } })).status;

describe('dashboard session cookie', () => {
  let host: Host;
  let storeUrl: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ url: storeUrl, cleanup } = await sqliteTestStore.create());
    host = await createDashboardApp(storeUrl, KEY).start({ port: 0 });
  });
  after(async () => {
    await host?.stop();
    await cleanup?.();
  });

  test('the cookie lasts 12 hours: Max-Age, and an expiry inside the value that the MAC covers', async () => {
    const before = nowSeconds();
    const { cookie, setCookie } = await signIn(host.url, KEY);
    assert.match(setCookie, new RegExp(`; Max-Age=${SESSION_MAX_AGE_SECONDS}(;|$)`));
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const value = cookie.slice(SESSION_COOKIE.length + 1);
    const [expiry, mac] = value.split('.') as [string, string];
    assert.ok(Number(expiry) >= before + SESSION_MAX_AGE_SECONDS && Number(expiry) <= nowSeconds() + SESSION_MAX_AGE_SECONDS, value);
    assert.ok(!value.includes(KEY) && mac.length === 43);
    assert.equal(await pageStatus(host.url, cookie), 200);
    // The same session seen 12 hours later is over.
    assert.equal(isValidSession(value, KEY, (Number(expiry) + 1) * 1000), false);
  });

  test('an expired cookie, a tampered expiry, a far-future one and garbage are refused', async () => {
    const { cookie } = await signIn(host.url, KEY);
    const [expiry, mac] = cookie.slice(SESSION_COOKIE.length + 1).split('.') as [string, string];
    const refused = {
      expired: sessionToken(KEY, nowSeconds() - 1),
      'expiry pushed by a second': `${Number(expiry) + 1}.${mac}`,
      'expiry pushed by a day': `${Number(expiry) + 86_400}.${mac}`,
      'a correct MAC over an expiry a month ahead': sessionToken(KEY, nowSeconds() + 30 * 86_400),
      'MAC only': mac,
      'a cookie of the previous format (an HMAC without expiry)': createHmac('sha256', KEY).update('duraflow-dashboard-session-v1').digest('base64url'),
      garbage: '1.2',
    };
    for (const [what, value] of Object.entries(refused)) {
      assert.equal(await pageStatus(host.url, `${SESSION_COOKIE}=${value}`), 401, what);
      const res = await fetch(`${host.url}/dashboard/api/start`, {
        method: 'POST',
        headers: { cookie: `${SESSION_COOKIE}=${value}`, 'content-type': 'application/json', 'x-duraflow-dashboard': '1' },
        body: '{"name":"echo","instanceId":"with-bad-cookie"}',
      });
      assert.equal(res.status, 401, what);
    }
    assert.equal(await host.client.getStatus('with-bad-cookie'), undefined);
    assert.equal(await pageStatus(host.url, `${SESSION_COOKIE}=${sessionToken(KEY, nowSeconds() + 60)}`), 200, 'a fresh one of ours works');
  });

  test('a new API key ends every session minted under the old one', async () => {
    const old = await signIn(host.url, KEY);
    await host.stop();
    host = await createDashboardApp(storeUrl, 'session-key-2').start({ port: 0 });
    assert.equal(await pageStatus(host.url, old.cookie), 401, 'the old cookie');
    const fresh = await signIn(host.url, 'session-key-2');
    assert.equal(await pageStatus(host.url, fresh.cookie), 200);
    await host.stop();
    host = await createDashboardApp(storeUrl, KEY).start({ port: 0 });
  });

  test('sign-out from a dashboard page clears the cookie; the layout shows it only when signed in', async () => {
    const { cookie } = await signIn(host.url, KEY);
    const page = await (await fetch(`${host.url}/dashboard`, { headers: { cookie } })).text();
    assert.match(page, /<form method="post" action="\/dashboard\/logout" class="logout"><button type="submit" class="link">Sign out<\/button><\/form>/);
    const login = await (await fetch(`${host.url}/dashboard/login`)).text();
    assert.ok(!login.includes('/dashboard/logout'), 'no sign-out on the sign-in page');
    const out = await fetch(`${host.url}/dashboard/logout`, { method: 'POST', headers: { cookie, origin: host.url, 'sec-fetch-site': 'same-origin' }, redirect: 'manual' });
    assert.equal(out.status, 303);
    assert.equal(out.headers.get('location'), '/dashboard/login');
    assert.match(out.headers.get('set-cookie') ?? '', new RegExp(`^${SESSION_COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0$`));
    const viaGet = await fetch(`${host.url}/dashboard/logout`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(viaGet.headers.get('set-cookie'), null, 'GET does not sign out');
  });

  test('sign-out and sign-in from a page on another origin are refused and set no cookie', async () => {
    const { cookie } = await signIn(host.url, KEY);
    const foreign: Record<string, string>[] = [
      { origin: EVIL, 'sec-fetch-site': 'cross-site' },
      { origin: EVIL },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    ];
    for (const headers of foreign) {
      const out = await fetch(`${host.url}/dashboard/logout`, { method: 'POST', headers: { cookie, ...headers }, redirect: 'manual' });
      assert.equal(out.status, 403, JSON.stringify(headers));
      assert.equal(out.headers.get('set-cookie'), null);
      const login = await fetch(`${host.url}/dashboard/login`, { method: 'POST', headers, body: new URLSearchParams({ key: KEY, next: '/dashboard' }), redirect: 'manual' });
      assert.equal(login.status, 403, JSON.stringify(headers));
      assert.equal(login.headers.get('set-cookie'), null);
    }
    assert.equal(await pageStatus(host.url, cookie), 200, 'still signed in');
  });
});

describe('the dashboard mounted without the HTTP host guards', () => {
  const fakeHost: DashboardHost = {
    app: { taskHub: 'default', registry: new Registry() },
    store: {} as Store,
    apiKey: KEY,
    clientFor: () => {
      throw new Error('not used');
    },
  };
  const http = new Hono();
  mountDashboard(http, fakeHost);
  const post = (path: string, headers: Record<string, string>, body?: URLSearchParams) =>
    http.request(`http://127.0.0.1:7071${path}`, { method: 'POST', headers: { host: '127.0.0.1:7071', ...headers }, ...(body ? { body } : {}) });

  test('still refuses sign-in and sign-out from another origin, and accepts its own pages', async () => {
    const form = () => new URLSearchParams({ key: KEY, next: '/dashboard' });
    const foreign: Record<string, string>[] = [{ origin: EVIL }, { origin: 'null' }, { origin: 'http://127.0.0.1:7072' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of foreign) {
      assert.equal((await post('/dashboard/logout', headers)).status, 403, JSON.stringify(headers));
      assert.equal((await post('/dashboard/login', headers, form())).status, 403, JSON.stringify(headers));
    }
    const own = { origin: 'http://127.0.0.1:7071', 'sec-fetch-site': 'same-origin' };
    assert.equal((await post('/dashboard/logout', own)).status, 303);
    const signedIn = await post('/dashboard/login', own, form());
    assert.equal(signedIn.status, 303);
    assert.match(signedIn.headers.get('set-cookie') ?? '', /Max-Age=43200/);
    assert.equal((await post('/dashboard/logout', {})).status, 303, 'no browser headers: not a browser page');
  });

  test('isSameOriginPost', () => {
    const req = (headers: Record<string, string>) => new Request('http://h:1/dashboard/logout', { method: 'POST', headers: { host: 'h:1', ...headers } });
    assert.equal(isSameOriginPost(req({ origin: 'http://h:1' })), true);
    assert.equal(isSameOriginPost(req({ origin: 'http://H:1', 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(isSameOriginPost(req({ 'sec-fetch-site': 'none' })), true);
    assert.equal(isSameOriginPost(req({})), true);
    assert.equal(isSameOriginPost(req({ origin: 'http://h:2' })), false);
    assert.equal(isSameOriginPost(req({ origin: 'http://h:1', 'sec-fetch-site': 'cross-site' })), false);
    assert.equal(isSameOriginPost(req({ origin: 'null' })), false);
  });
});
