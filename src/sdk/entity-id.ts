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
