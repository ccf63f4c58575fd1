/** Identity of a durable entity: a name and a key. */
import { ValidationError } from './errors.js';

/** Identifies one entity instance; its instance id is `@name@key` with the name lower-cased. */
export class EntityId {
  readonly name: string;
  readonly key: string;
  constructor(name: string, key: string) {
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError('An entity name must be a non-empty string.');
    if (name.includes('@')) throw new ValidationError(`An entity name may not contain '@': '${name}'.`);
    if (typeof key !== 'string') throw new ValidationError('An entity key must be a string.');
    this.name = name.toLowerCase();
    this.key = key;
  }
  /** The scheduler instance id, `@name@key`. */
  toString(): string {
    return `@${this.name}@${this.key}`;
  }
  /** Parses `@name@key`; `undefined` when `instanceId` is not an entity id. */
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

/** Checks an operation name: a string (the empty string is the default operation of HTTP signals). */
export function checkOperationName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new ValidationError('An entity operation name must be a string.');
}

/** Checks an optional scheduled time; returns it as ISO-8601. */
export function checkScheduledTime(time: unknown): string | undefined {
  if (time === undefined) return undefined;
  if (!(time instanceof Date) || Number.isNaN(time.getTime()))
    throw new ValidationError('scheduledTime must be a valid Date.');
  return time.toISOString();
}
