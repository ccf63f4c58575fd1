/**
 * Turning user values into the JSON text stored in history and back, with the payload rules:
 * values JSON cannot carry are refused with a `SerializationError` naming where they came from,
 * and payloads over the configured limit with a `PayloadTooLargeError`.
 */
import { PayloadTooLargeError, SerializationError, toFailureDetails } from '../sdk/errors.js';
import { defuse, describeValue, isThenable } from './foreign-values.js';

/** Default payload limit: 1 MiB of UTF-8 JSON. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

function rejectingReplacer(where: string) {
  return function (this: unknown, key: string, value: unknown): unknown {
    switch (typeof value) {
      case 'bigint':
        throw new SerializationError(`${where}: a BigInt (at '${key}') cannot be serialized as JSON.`);
      case 'function':
        throw new SerializationError(`${where}: a function (at '${key}') cannot be serialized as JSON.`);
      case 'symbol':
        throw new SerializationError(`${where}: a symbol (at '${key}') cannot be serialized as JSON.`);
      case 'number':
        if (!Number.isFinite(value)) {
          throw new SerializationError(`${where}: ${value} (at '${key}') cannot be serialized as JSON.`);
        }
        return value;
      case 'object':
        if (isThenable(value)) {
          defuse(value);
          throw new SerializationError(
            `${where}: ${describeValue(value)} (at '${key}') cannot be serialized as JSON; pass its result, from an activity.`,
          );
        }
        if (value instanceof Map || value instanceof Set) {
          throw new SerializationError(
            `${where}: a ${value.constructor.name} (at '${key}') would lose its contents in JSON; convert it first.`,
          );
        }
        return value;
      default:
        return value;
    }
  };
}

/** Number of bytes of the UTF-8 encoding of `text`, without allocating. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Throws `PayloadTooLargeError` when `text` is over `limit` bytes. */
export function checkPayloadSize(text: string | undefined, what: string, limit: number): void {
  if (text === undefined || text.length * 3 <= limit) return;
  const size = utf8Length(text);
  if (size > limit) throw new PayloadTooLargeError(what, size, limit);
}

/**
 * Serializes `value` to JSON text; `undefined` stays `undefined` (no payload).
 * @param where names the function or operation for error messages, e.g. `input of activity 'charge'`.
 */
export function serialize(value: unknown, where: string, limit = DEFAULT_MAX_PAYLOAD_BYTES): string | undefined {
  if (value === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, rejectingReplacer(where));
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    // JSON.stringify throws a TypeError for cycles; a getter or toJSON of user code may throw anything.
    throw new SerializationError(`${where}: ${toFailureDetails(error).message}`);
  }
  checkPayloadSize(text, where, limit);
  return text;
}

/** Parses JSON text produced by {@link serialize}; `undefined` gives `undefined`. */
export function deserialize<T = unknown>(text: string | undefined): T {
  return (text === undefined ? undefined : JSON.parse(text)) as T;
}
