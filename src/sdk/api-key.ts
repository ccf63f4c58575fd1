/**
 * The API key shared by the HTTP host, the dashboard and the gRPC sidecar: where it comes from, how a request
 * presents it, how it is compared (constant time), and the rule that a non-loopback address needs one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors.js';

/** The configured key: the option, else env `DURAFLOW_API_KEY`; empty means none. */
export function resolveApiKey(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = option ?? env['DURAFLOW_API_KEY'];
  return key ? key : undefined;
}

/** The key a request presents, if any (header, then bearer token, then `code` query parameter). */
export function presentedKey(request: Request): string | undefined {
  const header = request.headers.get('x-functions-key');
  if (header) return header;
  const authorization = request.headers.get('authorization');
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (bearer) return bearer.trim();
  const code = new URL(request.url).searchParams.get('code');
  return code || undefined;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time comparison: equal-length digests, so neither length nor content leaks through timing. */
export function keysMatch(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host) || host === '::ffff:127.0.0.1';
}

/** Throws when listening on `hostname` would expose an unprotected API. */
export function assertSafeBinding(hostname: string, apiKey: string | undefined): void {
  if (apiKey || isLoopbackHost(hostname)) return;
  throw new ValidationError(
    `Refusing to listen on '${hostname}' without an API key: the management API would be open to the network. ` +
      `Set DURAFLOW_API_KEY (or new DFApp({ apiKey })), or listen on 127.0.0.1.`,
  );
}
