/**
 * The `Host` allowlist of the HTTP host, against DNS rebinding: a web page on `rebind.evil.example` whose name
 * the attacker later points at 127.0.0.1 is same-origin with this host in the browser's eyes, so the browser
 * lets it read every answer — but its requests still say `Host: rebind.evil.example`. The host answers only to
 * names it knows and refuses the rest with 421 Misdirected Request before any route runs.
 *
 * Accepted host names (port ignored, case-insensitive, one trailing dot ignored):
 * - loopback names: `localhost`, `127.x.x.x`, `::1`;
 * - any IP address literal (`10.1.2.3`, `[fd00::5]`): a rebinding page always sends its own domain name, never
 *   an address, so an address is what a client that dialled this machine typed. This is what lets probes and
 *   scrapers that send `Host: <pod-ip>:<port>` in, and what a host bound to `0.0.0.0`/`::` answers to;
 * - the name the host was bound to, when `hostname` is a name (`app.start({ hostname: 'box.lan' })`);
 * - the `allowedHosts` entries: `name`, `.example.com` (the domain and its subdomains), `*` (any name).
 *
 * `GET`/`HEAD` of the probe paths (`/healthz`, `/readyz`) skip the check: they change nothing and say only
 * whether the host is up, and a probe may send whatever `Host` its platform chose.
 */
import type { MiddlewareHandler } from 'hono';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../sdk/api-key.js';
import { ValidationError } from '../sdk/errors.js';
import { errorBody } from './http-errors.js';

/** Paths whose `GET`/`HEAD` are answered whatever the `Host` (liveness and readiness probes). */
export const PROBE_PATHS: readonly string[] = ['/healthz', '/readyz'];

/** The host name of a `Host` value (`name[:port]`, `[v6]:port`): lower case, no brackets or trailing dot. */
export function hostnameOf(authority: string): string | undefined {
  if (authority === '' || /[\s/\\?#@]/.test(authority)) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${authority}/`).hostname;
  } catch {
    return undefined;
  }
  return hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/**
 * Validates and normalises `allowedHosts` entries (lower case, punycode, no trailing dot).
 * @throws ValidationError for an entry with a scheme, port or path, or one that is not a host name.
 */
export function normalizeAllowedHosts(entries: readonly string[] | undefined): string[] {
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) throw new ValidationError('allowedHosts must be an array of host names.');
  return entries.map((entry) => {
    if (typeof entry !== 'string') throw new ValidationError('allowedHosts must be an array of host names.');
    const text = entry.trim().toLowerCase();
    if (text === '*') return text;
    const domain = text.startsWith('.');
    const name = domain ? text.slice(1) : text;
    const hostname = name === '' || /[:/\\?#@%*\s]/.test(name) ? undefined : hostnameOf(name);
    if (hostname === undefined || hostname === '') {
      throw new ValidationError(
        `allowedHosts entry '${entry}' is not a host name: give names without scheme, port or path ('box.example.com'), ` +
          `'.example.com' for a domain and its subdomains, or '*' for any name.`,
      );
    }
    return domain ? `.${hostname}` : hostname;
  });
}

/** What a host answers to, besides loopback names and IP literals. */
export interface HostRule {
  /** The address or name the server listens on, when known. */
  boundHostname?: string | undefined;
  /** Normalised `allowedHosts` entries. */
  allowedHosts: readonly string[];
}

/** True when a request for `hostname` (as {@link hostnameOf} gives it) may be served. */
export function isAllowedHost(hostname: string, rule: HostRule): boolean {
  if (isLoopbackHost(hostname) || isIP(hostname) !== 0) return true;
  const bound = rule.boundHostname && isIP(rule.boundHostname) === 0 ? hostnameOf(rule.boundHostname) : undefined;
  if (bound !== undefined && bound === hostname) return true;
  return rule.allowedHosts.some((entry) => entry === '*' || entry === hostname || (entry.startsWith('.') && (hostname === entry.slice(1) || hostname.endsWith(entry))));
}

/** The names a host answers to, for the refusal message. */
function knownNames(rule: HostRule): string {
  const names = ['localhost', '127.0.0.1', '[::1]', 'any IP address'];
  if (rule.boundHostname && isIP(rule.boundHostname) === 0 && !isLoopbackHost(rule.boundHostname)) names.push(rule.boundHostname);
  names.push(...rule.allowedHosts);
  return names.join(', ');
}

/** Middleware that answers 421 to a request whose `Host` (or absolute request target) names another host. */
export function allowedHostsGuard(rule: HostRule): MiddlewareHandler {
  return async (c, next) => {
    const url = new URL(c.req.url);
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && PROBE_PATHS.includes(url.pathname)) return next();
    const header = c.req.header('host');
    for (const authority of header === undefined ? [url.host] : [header, url.host]) {
      const hostname = hostnameOf(authority);
      if (hostname !== undefined && isAllowedHost(hostname, rule)) continue;
      const shown = hostname ?? authority;
      const message =
        `This duraflow host does not answer to the name '${shown}' (a guard against DNS rebinding); it answers to ${knownNames(rule)}. ` +
        `If '${shown}' is this host's name, add it to allowedHosts: new DFApp({ allowedHosts: ['${shown}'] }) or duraflow start --allowed-host ${shown}.`;
      return c.json(errorBody('HostNotAllowedError', message, { host: shown }), 421);
    }
    return next();
  };
}
