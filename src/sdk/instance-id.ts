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
  // eslint-disable-next-line no-control-regex
  if (/[/\\#?\u0000-\u001f\u007f]/.test(instanceId)) {
    throw new ValidationError(`An instance id may not contain '/', '\\', '#', '?' or control characters: ${JSON.stringify(instanceId)}.`);
  }
}
