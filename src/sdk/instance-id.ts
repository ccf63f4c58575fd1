/** Validation of orchestration instance ids, shared by clients, the executor and the HTTP and gRPC hosts. */
import { ValidationError } from './errors.js';

/** Instance id rules (reference §3.2): not starting with `@`, none of `/ \ # ?` or control characters, ≤256 chars. */
export function validateInstanceId(instanceId: unknown): asserts instanceId is string {
  if (typeof instanceId !== 'string' || instanceId.length === 0) {
    throw new ValidationError('An instance id must be a non-empty string.');
  }
  if (instanceId.length > 256) throw new ValidationError(`An instance id may be at most 256 characters (got ${instanceId.length}).`);
  if (instanceId.startsWith('@')) throw new ValidationError(`Instance ids starting with '@' are reserved for entities: '${instanceId}'.`);
  // URLs resolve '.' and '..' path segments away, so such ids could never be addressed over HTTP.
  if (instanceId === '.' || instanceId === '..') throw new ValidationError(`'${instanceId}' cannot be used as an instance id.`);
  // C0 and C1 control characters, and lone surrogates (not text: they cannot be encoded in a URL or UTF-8).
  // eslint-disable-next-line no-control-regex
  if (/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(instanceId) || !isWellFormed(instanceId)) {
    throw new ValidationError(`An instance id may not contain '/', '\\', '#', '?' or control characters: ${JSON.stringify(instanceId)}.`);
  }
}

/**
 * Refuses NUL characters in a string stored as text (names, versions, entity keys, filters): PostgreSQL text
 * cannot hold them, so both stores refuse them alike instead of one storing what the other cannot.
 */
export function checkStorableText(value: string, what: string): void {
  if (value.includes('\u0000')) throw new ValidationError(`${what} may not contain NUL characters: ${JSON.stringify(value)}.`);
}

/** True unless `text` holds a lone UTF-16 surrogate (`String.prototype.isWellFormed`, which our ES2023 lib types lack). */
function isWellFormed(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
