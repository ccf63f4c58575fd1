/**
 * Store errors named for what they are. The drivers say `SQLITE_FULL`, `file is not a database` or
 * `connect ECONNREFUSED 127.0.0.1:5999`; an operator needs "the disk is full", "database file is corrupt: <path>"
 * or "cannot reach PostgreSQL at host:port". {@link guardStore} wraps a store so that every error it throws for
 * such a reason is a {@link StoreError} with that message (the driver's error as its `cause`); every other
 * error passes through unchanged.
 */
import { resolve } from 'node:path';
import { StoreError, type StoreErrorReason } from '../sdk/errors.js';
import type { Logger } from '../sdk/logger.js';
import type { HubStore, Store } from './store.js';
import { StoreOutage } from './store-outage.js';

/** A store URL with its password (and any other secret) left out, for logs and messages. */
export function redactStoreUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) if (/pass|secret|key|token/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** `host:port` of a PostgreSQL store URL (pg's defaults: localhost, 5432). */
export function postgresAddress(url: string): string {
  try {
    const parsed = new URL(url);
    const host = decodeURIComponent(parsed.hostname) || parsed.searchParams.get('host') || 'localhost';
    return `${host}:${parsed.port || '5432'}`;
  } catch {
    return 'the configured address';
  }
}

/** The file of a SQLite store URL, as an absolute path. */
function sqlitePath(url: string): string {
  const path = url.slice('sqlite:'.length);
  return path === ':memory:' ? path : resolve(path);
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);
/** SQLSTATEs of a server that is there but going away or not taking connections (admin shutdown, crash, startup). */
const SERVER_GONE_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sqliteReason(code: string): StoreErrorReason | undefined {
  if (code === 'SQLITE_FULL') return 'disk-full';
  if (code.startsWith('SQLITE_READONLY')) return 'read-only';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'cannot-open';
  if (code.startsWith('SQLITE_IOERR')) return 'io-error';
  return undefined;
}

/** A SQLite error as a {@link StoreError}, or undefined when it is not one an operator must fix. */
function sqliteError(error: unknown, url: string): StoreError | undefined {
  const code = codeOf(error);
  const reason = code === undefined ? undefined : sqliteReason(code);
  if (!reason || !code) return undefined;
  const path = sqlitePath(url);
  const detail = `${code}: ${messageOf(error)}`;
  const messages: Record<string, string> = {
    'disk-full': `the disk is full: the SQLite store ${path} cannot grow (${detail}); free some space and the work goes on`,
    'read-only': `the SQLite store is read-only: ${path} (${detail}); give this process write access to the file and its directory`,
    corrupt: `database file is corrupt: ${path} (${detail}); restore it from a backup or point --store at another file`,
    'cannot-open': `cannot open the SQLite store ${path} (${detail}); check that its directory exists and is writable`,
    'io-error': `I/O error on the SQLite store ${path} (${detail}); check the disk and its file system (dmesg): one that met an error may have been remounted read-only`,
  };
  return new StoreError(reason, messages[reason]!, { cause: error, code });
}

/** A node-postgres error as a {@link StoreError}, or undefined when it is not about reaching the server. */
function postgresError(error: unknown, url: string): StoreError | undefined {
  const code = codeOf(error);
  const text = messageOf(error);
  const address = postgresAddress(url);
  const lost = /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error/i.test(text);
  if ((code !== undefined && (CONNECTION_CODES.has(code) || SERVER_GONE_STATES.has(code))) || (code === undefined && lost)) {
    return new StoreError(
      'unreachable',
      `cannot reach PostgreSQL at ${address} (${text}); is the server running, and is the store URL (${redactStoreUrl(url)}) right?`,
      { cause: error, ...(code !== undefined ? { code } : {}) },
    );
  }
  // Wrong credentials, no such database or role, too many connections: the server is there and says no.
  if (code !== undefined && (code.startsWith('28') || code === '3D000' || code === '53300')) {
    return new StoreError('refused', `PostgreSQL at ${address} refused the connection (${code}: ${text}); check the store URL (${redactStoreUrl(url)})`, {
      cause: error,
      code,
    });
  }
  return undefined;
}

/** `error` as a {@link StoreError} when the store at `url` failed for a reason an operator must fix; else `error` itself. */
export function describeStoreError(error: unknown, url: string): unknown {
  if (error instanceof StoreError) return error;
  const described = url.startsWith('sqlite:') ? sqliteError(error, url) : postgresError(error, url);
  return described ?? error;
}

type AnyFunction = (...args: unknown[]) => unknown;

/** Calls `fn` on `target`, translating what it throws or rejects with, and telling `outage` how it went. */
function translated(target: object, fn: AnyFunction, args: unknown[], url: string, method: string, outage: StoreOutage): unknown {
  const fail = (error: unknown) => {
    const described = describeStoreError(error, url);
    outage.failed(described);
    return described;
  };
  let result: unknown;
  try {
    result = fn.apply(target, args);
  } catch (error) {
    throw fail(error);
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        outage.succeeded(method);
        return value;
      },
      (error: unknown) => Promise.reject(fail(error)),
    );
  }
  return result;
}

/** `object` with every method's errors translated (methods run on the object itself, so private fields work). */
function guarded<T extends object>(object: T, url: string, outage: StoreOutage, wrapResult?: (prop: string | symbol, value: unknown) => unknown): T {
  return new Proxy(object, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = translated(target, value as AnyFunction, args, url, String(prop), outage);
        return wrapResult ? wrapResult(prop, result) : result;
      };
    },
  });
}

const outages = new WeakMap<Store, StoreOutage>();

/**
 * Wraps `store` (and the hub stores it hands out) so that its errors are named (see {@link describeStoreError}),
 * and so that `logger` hears once when its writes succeed again after store errors (see store-outage.ts).
 */
export function guardStore(store: Store, logger?: Logger): Store {
  const hubs = new WeakMap<HubStore, HubStore>();
  const outage = new StoreOutage(logger);
  const wrapped = guarded(store, store.url, outage, (prop, result) => {
    if (prop !== 'hub') return result;
    const hub = result as HubStore;
    let wrappedHub = hubs.get(hub);
    if (!wrappedHub) {
      wrappedHub = guarded(hub, store.url, outage);
      hubs.set(hub, wrappedHub);
    }
    return wrappedHub;
  });
  outages.set(wrapped, outage);
  return wrapped;
}

/** Gives a store from {@link guardStore} opened without a logger the logger of a later opener. */
export function adoptStoreLogger(store: Store, logger: Logger): void {
  outages.get(store)?.adoptLogger(logger);
}
