/**
 * Instance tags: string key/value pairs stored with an instance (DTFx's `OrchestrationTags`), returned on its
 * status and usable as a listing filter. Every way in (client `startNew`, sub-orchestration calls, the HTTP
 * API, the CLI, the gRPC sidecar) checks them here, so a bad set is refused the same way everywhere and
 * before anything is written.
 */
import { ValidationError } from './errors.js';

/** Tags of an instance: at most {@link MAX_TAGS} pairs of strings. */
export type InstanceTags = Record<string, string>;

/** Most tags an instance may carry (its own and, for a sub-orchestration, those it inherits). */
export const MAX_TAGS = 32;
/** Longest tag key, in characters (UTF-16 code units, as `string.length` counts). */
export const MAX_TAG_KEY_LENGTH = 128;
/** Longest tag value, in characters (UTF-16 code units). */
export const MAX_TAG_VALUE_LENGTH = 1024;

/**
 * Checks `value` as a set of tags and returns a plain copy (own enumerable properties only, so `__proto__` is
 * an ordinary key), or `undefined` when it is absent or empty. `what` names the option in the error
 * (`tags`, `tags filter`). Rules: a plain object of at most {@link MAX_TAGS} entries; keys 1-128 characters
 * without control characters; values strings of at most 1024 characters without NUL; both well-formed text.
 */
export function checkTags(value: unknown, what = 'tags'): InstanceTags | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || !isPlainObject(value)) {
    throw new ValidationError(`${what} must be an object of string keys and string values.`);
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) throw new ValidationError(`${what} may hold at most ${MAX_TAGS} tags (got ${entries.length}).`);
  for (const [key, tag] of entries) {
    if (key.length === 0) throw new ValidationError(`${what}: a tag key may not be empty.`);
    if (key.length > MAX_TAG_KEY_LENGTH) {
      throw new ValidationError(`${what}: a tag key may be at most ${MAX_TAG_KEY_LENGTH} characters (got ${key.length}).`);
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f]/.test(key) || !isWellFormed(key)) {
      throw new ValidationError(`${what}: tag key ${JSON.stringify(key)} may not contain control characters or lone surrogates.`);
    }
    if (typeof tag !== 'string') throw new ValidationError(`${what}: the value of tag '${key}' must be a string (got ${describe(tag)}).`);
    if (tag.length > MAX_TAG_VALUE_LENGTH) {
      throw new ValidationError(`${what}: the value of tag '${key}' may be at most ${MAX_TAG_VALUE_LENGTH} characters (got ${tag.length}).`);
    }
    // PostgreSQL text and jsonb cannot hold NUL or lone surrogates: both stores refuse them alike.
    if (tag.includes('\u0000') || !isWellFormed(tag)) {
      throw new ValidationError(`${what}: the value of tag '${key}' may not contain NUL characters or lone surrogates.`);
    }
  }
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/**
 * The tags of a sub-orchestration: its parent's, overridden by those its call names (DTFx's
 * `OrchestrationTags.MergeTags`). Undefined when neither has any.
 */
export function mergeTags(inherited: InstanceTags | undefined, own: InstanceTags | undefined): InstanceTags | undefined {
  if (!inherited) return own;
  if (!own) return inherited;
  return Object.fromEntries([...Object.entries(inherited), ...Object.entries(own)]);
}

/**
 * Parses `key=value` (the CLI's `--tag`, the dashboard's filter box): the key ends at the first `=`, so a value
 * may contain `=` but a key may not.
 */
export function parseTagPair(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new ValidationError(`A tag must be written key=value, got '${text}'.`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** Tags from `key=value` pairs (later pairs win), checked as {@link checkTags} checks them. */
export function tagsFromPairs(pairs: readonly string[], what = 'tags'): InstanceTags | undefined {
  return checkTags(Object.fromEntries(pairs.map(parseTagPair)), what);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** True unless `text` holds a lone UTF-16 surrogate. */
function isWellFormed(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
