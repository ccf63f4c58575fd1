/**
 * Dashboard access with an API key configured. A browser presents the key once — opening
 * `/dashboard?code=<key>` or submitting the login form — and gets an HttpOnly, SameSite=Strict cookie that
 * holds an HMAC of the key (never the key itself). Scripts may send the key as `x-functions-key` or a Bearer
 * token instead. Without a key configured the dashboard is open (the host then only listens on loopback).
 *
 * Actions are POSTs that must carry the `x-duraflow-dashboard` header and a JSON body: a cross-site form
 * cannot set either, so the cookie cannot be used for cross-site request forgery.
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

/** The cookie value that proves knowledge of `apiKey`. */
export function sessionToken(apiKey: string): string {
  return createHmac('sha256', apiKey).update('duraflow-dashboard-session-v1').digest('base64url');
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
export function isAuthorized(request: Request, apiKey: string | undefined): boolean {
  if (apiKey === undefined) return true;
  const cookie = readCookie(request, SESSION_COOKIE);
  if (cookie !== undefined && safeEqual(cookie, sessionToken(apiKey))) return true;
  const presented = headerKey(request);
  return presented !== undefined && safeEqual(presented, apiKey);
}

/** The `Set-Cookie` value that signs a browser in (or out, with `undefined`). */
export function sessionCookie(apiKey: string | undefined, secure: boolean): string {
  const attributes = `Path=/dashboard; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  return apiKey === undefined ? `${SESSION_COOKIE}=; Max-Age=0; ${attributes}` : `${SESSION_COOKIE}=${sessionToken(apiKey)}; ${attributes}`;
}

/** A redirect target that stays inside the dashboard (no open redirects). */
export function safeNext(next: string | null | undefined): string {
  return next && /^\/dashboard(\/|\?|$)/.test(next) && !next.startsWith('//') && !next.includes('\\') ? next : '/dashboard';
}
