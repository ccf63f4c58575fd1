/**
 * The `recursive` option of terminate and purge (an instance and its sub-orchestrations), checked alike by every
 * client before it sends or deletes anything.
 */
import { ValidationError } from './errors.js';

/** `options.recursive` as a boolean (absent: false); anything else is a `ValidationError` naming `method`. */
export function recursiveOption(options: { recursive?: unknown } | undefined, method: string): boolean {
  if (options === undefined || options === null) return false;
  if (typeof options !== 'object') throw new ValidationError(`${method}: options must be an object, got ${typeof options}.`);
  const recursive = options.recursive;
  if (recursive === undefined) return false;
  if (typeof recursive !== 'boolean') throw new ValidationError(`${method}: recursive must be true or false, got ${JSON.stringify(recursive) ?? typeof recursive}.`);
  return recursive;
}
