/** Identity of a durable entity: a name and a key. */
import { ValidationError } from './errors.js';
import { checkStorableText } from './instance-id.js';

/**
 * Identifies one entity instance. `name` is kept as given (as the Python SDK's `entity_id.name`); names match
 * without regard to case, as in Durable Functions, so the instance id is `@name@key` with the name lower-cased.
 */
export class EntityId {
  readonly name: string;
  readonly key: string;
  constructor(name: string, key: string) {
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError('An entity name must be a non-empty string.');
    if (name.includes('@')) throw new ValidationError(`An entity name may not contain '@': '${name}'.`);
    if (typeof key !== 'string') throw new ValidationError('An entity key must be a string.');
    checkStorableText(name, 'An entity name');
    checkStorableText(key, 'An entity key');
    this.name = name;
    this.key = key;
  }
  /** The scheduler instance id, `@name@key`. */
  toString(): string {
    return `@${this.name.toLowerCase()}@${this.key}`;
  }
  /** Parses `@name@key` (the name comes back lower-cased); `undefined` when `instanceId` is not an entity id. */
  static fromInstanceId(instanceId: string): EntityId | undefined {
    if (!instanceId.startsWith('@')) return undefined;
    const at = instanceId.indexOf('@', 1);
    if (at < 0) return undefined;
    return new EntityId(instanceId.slice(1, at), instanceId.slice(at + 1));
  }
}

/** Accepts an `EntityId` or a plain `{ name, key }`. */
export function toEntityId(value: unknown): EntityId {
  if (value instanceof EntityId) return value;
  if (typeof value === 'object' && value !== null && 'name' in value && 'key' in value) {
    const { name, key } = value as { name: unknown; key: unknown };
    return new EntityId(name as string, key as string);
  }
  throw new ValidationError('Expected an EntityId (new EntityId(name, key)).');
}

/** Checks an operation name: a non-empty string (an HTTP signal names it with `?op=`). */
export function checkOperationName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError('An entity operation name must be a non-empty string (the op query parameter of an HTTP signal).');
  checkStorableText(name, 'An entity operation name');
}

/** Checks an optional scheduled time; returns it as ISO-8601. */
export function checkScheduledTime(time: unknown): string | undefined {
  if (time === undefined) return undefined;
  if (!(time instanceof Date) || Number.isNaN(time.getTime()))
    throw new ValidationError('scheduledTime must be a valid Date.');
  return time.toISOString();
}
