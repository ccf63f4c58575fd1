/**
 * Messages between orchestrations, clients and entities (reference §4, after DTFx's `RequestMessage`).
 *
 * Everything travels as an `EventRaised` event in the receiver's inbox:
 * - to an entity, named `op`: a {@link EntityRequest} (an operation, or a lock request when `lockset` is set);
 * - to an entity, named `release`: a {@link EntityRelease} that ends a critical section;
 * - to a caller, named by the request id: a {@link EntityResponse} (an operation's result or error, or a lock grant).
 *
 * Payload fields (`input`, `result`) hold JSON text, so a value is serialized exactly once, by its sender.
 */
import type { FailureDetails, HistoryEvent, TraceContext } from '../sdk/history.js';

/** Event name of operation and lock requests. */
export const ENTITY_REQUEST_EVENT = 'op';
/** Event name of lock releases. */
export const ENTITY_RELEASE_EVENT = 'release';

/** An operation (signal or call) or a lock request sent to an entity. */
export interface EntityRequest {
  /** Unique id: responses are raised on the caller under this name. */
  id: string;
  /** Operation name (absent for lock requests). */
  op?: string;
  /** One-way: no response is sent. */
  signal?: boolean;
  /** JSON text of the operation input. */
  input?: string;
  /** Instance id of the sender (an orchestration, an entity, or absent for clients). */
  parent?: string;
  /** Execution id of the sending orchestration: responses to an older execution are dropped. */
  parentExecution?: string;
  /** Send time (ISO-8601). */
  timestamp: string;
  /** A scheduled signal: when it is delivered (ISO-8601). */
  scheduledTime?: string;
  /** Lock request: every entity to lock, sorted; the request travels through them in this order. */
  lockset?: string[];
  /** Lock request: index in `lockset` of the entity this message is for. */
  position?: number;
  /** The span that sent it (an orchestration's, a client's): the operation's span is its child, even after waiting in the queue. */
  trace?: TraceContext;
}

/** Ends the critical section `id` of orchestration `parent`. */
export interface EntityRelease {
  id: string;
  parent: string;
}

/** The answer to a call (or a lock grant), raised on the caller under the request id. */
export interface EntityResponse {
  /** JSON text of the operation's result. */
  result?: string;
  /** Set when the operation failed. */
  failureDetails?: FailureDetails;
}

/** A message an entity receives, decoded. */
export type EntityMessage =
  { kind: 'request'; request: EntityRequest } | { kind: 'release'; release: EntityRelease } | { kind: 'other' };

/** Decodes an inbox event of an entity; anything that is not a well-formed entity message is `other`. */
export function decodeEntityMessage(event: HistoryEvent): EntityMessage {
  if (event.eventType !== 'EventRaised' || event.input === undefined) return { kind: 'other' };
  let body: unknown;
  try {
    body = JSON.parse(event.input);
  } catch {
    return { kind: 'other' };
  }
  if (typeof body !== 'object' || body === null || typeof (body as { id?: unknown }).id !== 'string')
    return { kind: 'other' };
  if (event.name === ENTITY_REQUEST_EVENT) return { kind: 'request', request: body as EntityRequest };
  if (event.name === ENTITY_RELEASE_EVENT && typeof (body as { parent?: unknown }).parent === 'string') {
    return { kind: 'release', release: body as EntityRelease };
  }
  return { kind: 'other' };
}

/** True when `request` asks for a lock rather than an operation. */
export function isLockRequest(request: EntityRequest): boolean {
  return Array.isArray(request.lockset);
}

/** Decodes a response raised on a caller; malformed text gives an error response. */
export function decodeEntityResponse(text: string | undefined): EntityResponse {
  if (text === undefined) return {};
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null) return body as EntityResponse;
  } catch {
    // fall through
  }
  return { failureDetails: { errorType: 'Error', message: `Malformed entity response: ${text.slice(0, 200)}` } };
}

/**
 * The text of an entity request event with `trace` added (the runtime knows the sender's span, the code that
 * wrote the request does not); any other text is returned as it is.
 */
export function withRequestTrace(input: string | undefined, trace: TraceContext | undefined): string | undefined {
  if (input === undefined || trace === undefined) return input;
  try {
    const body = JSON.parse(input) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { id?: unknown }).id !== 'string') return input;
    return JSON.stringify({ ...(body as EntityRequest), trace });
  } catch {
    return input;
  }
}
