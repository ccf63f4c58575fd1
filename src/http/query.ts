/**
 * Query-string values of the management API, checked strictly: anything out of range or malformed is a
 * 400 that names the parameter, never a silently ignored value.
 */
import type { RuntimeStatus } from '../sdk/history.js';
import { MAX_PAGE_SIZE } from '../store/shared.js';
import { HttpError } from './http-errors.js';
import { checkTags, type InstanceTags } from '../sdk/tags.js';

const STATUSES: readonly RuntimeStatus[] = ['Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Canceled', 'Terminated', 'Pending', 'Suspended'];

/** Longest wait a start (or restart) with `timeout` may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 3600;

/** The query parameters of one request. */
export class Query {
  readonly #params: URLSearchParams;
  constructor(url: string) {
    this.#params = new URL(url).searchParams;
  }

  /** The raw value, if present. */
  string(name: string): string | undefined {
    return this.#params.get(name) ?? undefined;
  }

  /** `true`/`false` (any case); absent gives `fallback`. */
  bool(name: string, fallback: boolean): boolean {
    const value = this.string(name);
    if (value === undefined || value === '') return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw new HttpError(400, `Query parameter '${name}' must be 'true' or 'false', got '${value}'.`);
  }

  /** An ISO-8601 date or date-time. */
  date(name: string): Date | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const time = parseIsoDate(value.trim());
    if (time === undefined) throw new HttpError(400, `Query parameter '${name}' must be an ISO-8601 date, got '${value}'.`);
    return new Date(time);
  }

  /** Runtime statuses from every `name` parameter, each a comma-separated list (names in any case). */
  statuses(name: string): RuntimeStatus[] | undefined {
    const values = this.#params.getAll(name);
    if (values.length === 0) return undefined;
    const out: RuntimeStatus[] = [];
    for (const part of values.flatMap((v) => v.split(','))) {
      const trimmed = part.trim();
      if (trimmed === '') continue;
      const status = STATUSES.find((s) => s.toLowerCase() === trimmed.toLowerCase());
      if (!status) throw new HttpError(400, `Unknown runtime status '${trimmed}' in '${name}'. Known statuses: ${STATUSES.join(', ')}.`);
      if (!out.includes(status)) out.push(status);
    }
    return out.length ? out : undefined;
  }

  /**
   * Instance tags from `tags` (a JSON object: exact for any key) and every `tag` (`key=value`, split at the first
   * `=`; later ones win), checked as a start's tags are; undefined when neither is given.
   */
  tags(): InstanceTags | undefined {
    const json = this.string('tags');
    const pairs = this.#params.getAll('tag');
    if (json === undefined && pairs.length === 0) return undefined;
    let parsed: unknown = {};
    if (json !== undefined && json !== '') {
      try {
        parsed = JSON.parse(json) as unknown;
      } catch {
        throw new HttpError(400, `Query parameter 'tags' must be a JSON object of strings, got '${json}'.`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new HttpError(400, `Query parameter 'tags' must be a JSON object of strings, got '${json}'.`);
      }
    }
    const fromPairs = pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new HttpError(400, `Query parameter 'tag' must be key=value, got '${pair}'.`);
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    });
    return checkTags(Object.fromEntries([...Object.entries(parsed as object), ...fromPairs]), "query parameter 'tags'");
  }

  /** A page size from 1 to the store's maximum. */
  top(name: string, fallback: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
      throw new HttpError(400, `Query parameter '${name}' must be an integer from 1 to ${MAX_PAGE_SIZE}, got '${value}'.`);
    }
    return n;
  }

  /** A non-negative number of seconds, at most `max`, in milliseconds. */
  seconds(name: string, max = MAX_WAIT_SECONDS): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isFinite(n) || n < 0 || n > max) {
      throw new HttpError(400, `Query parameter '${name}' must be a number of seconds from 0 to ${max}, got '${value}'.`);
    }
    return Math.round(n * 1000);
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Milliseconds of an ISO-8601 date or date-time, or undefined. Strict: `Date.parse` rolls `2024-02-30` over to
 * March 1st and takes hour 24, so the fields are checked against the calendar first.
 */
export function parseIsoDate(text: string): number | undefined {
  const match = ISO_DATE.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part)));
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth || hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

/** The task hub a request addresses: the `taskHub` query parameter, else the app's. */
export function taskHubOf(query: Query, fallback: string): string {
  const hub = query.string('taskHub');
  if (hub === undefined || hub === '') return fallback;
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(hub)) throw new HttpError(400, `Query parameter 'taskHub' must be 1-128 letters, digits, '.', '_' or '-', got '${hub}'.`);
  return hub;
}
