/**
 * Dashboard access with an API key configured. A browser presents the key once — opening
 * `/dashboard?code=<key>` or submitting the login form — and gets an HttpOnly, SameSite=Strict session cookie
 * `<expiry>.<HMAC-SHA256 keyed with the API key over the expiry>` (never the key itself). It lasts
 * {@link SESSION_MAX_AGE_SECONDS} (12 h): the expiry is inside the MAC, so a client cannot extend it, and a
 * new API key invalidates every cookie minted under the old one (rotate the key to sign everyone out). Scripts
 * may send the key as `x-functions-key` or a Bearer token instead. Without a key configured the dashboard is
 * open (the host then only listens on loopback).
 *
 * Actions are POSTs that must carry the `x-duraflow-dashboard` header and a JSON body: a cross-site form
 * cannot set either, so the cookie cannot be used for cross-site request forgery. Sign-in and sign-out are
 * form POSTs, so they check that the request comes from a dashboard page ({@link isSameOriginPost}).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'duraflow_dashboard';
/** Header every dashboard action must carry. */
export const ACTION_HEADER = 'x-duraflow-dashboard';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time equality of two strings (compares digests, so lengths do not leak either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** How long a dashboard session lasts: 12 hours. */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

/** Clock skew tolerated on an expiry that lies further ahead than a session can last. */
const FUTURE_SLACK_SECONDS = 300;

const sessionMac = (apiKey: string, expiresAt: number) =>
  createHmac('sha256', apiKey).update(`duraflow-dashboard-session-v2.${expiresAt}`, 'utf8').digest('base64url');

/** The cookie value of a session that ends at `expiresAt` (Unix seconds), proving knowledge of `apiKey`. */
export function sessionToken(apiKey: string, expiresAt: number): string {
  return `${expiresAt}.${sessionMac(apiKey, expiresAt)}`;
}

/** True when `token` is a session minted with `apiKey` that has not expired at `nowMs`. */
export function isValidSession(token: string, apiKey: string, nowMs: number = Date.now()): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  const now = Math.floor(nowMs / 1000);
  // Expired, or further ahead than any session this host mints (not one of ours, whoever holds the key).
  if (expiresAt <= now || expiresAt > now + SESSION_MAX_AGE_SECONDS + FUTURE_SLACK_SECONDS) return false;
  return safeEqual(match[2]!, sessionMac(apiKey, expiresAt));
}

/** Reads one cookie from a request. */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The key a request presents in a header (`x-functions-key` or Bearer). */
function headerKey(request: Request): string | undefined {
  const header = request.headers.get('x-functions-key');
  if (header) return header;
  return request.headers.get('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
}

/** True when the request may see the dashboard. */
export function isAuthorized(request: Request, apiKey: string | undefined, nowMs: number = Date.now()): boolean {
  if (apiKey === undefined) return true;
  const cookie = readCookie(request, SESSION_COOKIE);
  if (cookie !== undefined && isValidSession(cookie, apiKey, nowMs)) return true;
  const presented = headerKey(request);
  return presented !== undefined && safeEqual(presented, apiKey);
}

/** The `Set-Cookie` value that signs a browser in for {@link SESSION_MAX_AGE_SECONDS} (or out, with `undefined`). */
export function sessionCookie(apiKey: string | undefined, secure: boolean, nowMs: number = Date.now()): string {
  const attributes = `Path=/dashboard; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  if (apiKey === undefined) return `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`;
  const token = sessionToken(apiKey, Math.floor(nowMs / 1000) + SESSION_MAX_AGE_SECONDS);
  return `${SESSION_COOKIE}=${token}; ${attributes}; Max-Age=${SESSION_MAX_AGE_SECONDS}`;
}

/**
 * True when a form POST comes from a page of this host, or from no browser page at all: its `Origin` is this
 * host (`Host`), or it has no `Origin` and no `Sec-Fetch-Site` other than `same-origin`/`none`. The HTTP
 * host's Origin rule refuses cross-origin requests before they get here; the dashboard checks again because
 * it may be mounted on its own.
 */
export function isSameOriginPost(request: Request): boolean {
  const origin = request.headers.get('origin');
  const site = request.headers.get('sec-fetch-site')?.toLowerCase();
  if (origin === null) return site === undefined || site === 'same-origin' || site === 'none';
  let host: string;
  try {
    host = request.headers.get('host') ?? new URL(request.url).host;
    return new URL(origin).host === host.toLowerCase() && site !== 'cross-site' && site !== 'same-site';
  } catch {
    return false; // `Origin: null` and garbage
  }
}

/** A redirect target that stays inside the dashboard (no open redirects). */
export function safeNext(next: string | null | undefined): string {
  return next && /^\/dashboard(\/|\?|$)/.test(next) && !next.startsWith('//') && !next.includes('\\') ? next : '/dashboard';
}
