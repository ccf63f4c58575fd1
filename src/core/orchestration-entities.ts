/**
 * Entities seen from an orchestration: `callEntity`, `signalEntity` and critical sections (`lock`).
 *
 * Every message goes out through the executor's SendEvent action, so it consumes a sequence number and is
 * recorded as EventSent (replay checks it like any scheduling call). Request ids come from the deterministic
 * `newUuid`, and responses come back as EventRaised events named by the request id.
 *
 * Critical-section rules (.NET's, reference §4): no lock request while holding or acquiring locks; while in a
 * section, calls only to locked entities and at most one at a time per entity, no signals to locked entities,
 * no sub-orchestrations. Violations throw {@link LockingRulesViolationError}.
 */
import type { EventRaisedEvent } from '../sdk/history.js';
import {
  ENTITY_RELEASE_EVENT,
  ENTITY_REQUEST_EVENT,
  decodeEntityResponse,
  type EntityRelease,
  type EntityRequest,
} from './entity-messages.js';
import { deserialize, serialize } from './payload.js';
import type { EntityId } from '../sdk/entity-id.js';
import { LockingRulesViolationError, TaskFailedError, ValidationError } from '../sdk/errors.js';
import { CompletableTask, type Task } from '../sdk/task.js';
import { checkOperationName, toEntityId } from '../sdk/entity-id.js';
import type { EntityLock } from '../sdk/orchestration-context.js';

/** What the entity features need from the executor. */
export interface EntityCallHost {
  readonly maxPayloadBytes: number;
  instanceId(): string;
  executionId(): string | undefined;
  /** Deterministic current time. */
  now(): Date;
  /** Deterministic unique id. */
  newUuid(): string;
  /** Schedules a SendEvent action with pre-serialized data; returns its sequence id. */
  send(instanceId: string, name: string, input: string): number;
}

/** A message to send when the orchestration ends (lock releases). */
export interface EntityFinalMessage {
  instanceId: string;
  name: string;
  input: string;
}

interface Waiter {
  complete(event: EventRaisedEvent): void;
  /** What it waits for (the dashboard's "waiting for"). */
  entity?: string;
  operation?: string;
  taskId?: number;
}

/** What an orchestration waits for from entities (see {@link OrchestrationEntities.pending}). */
export interface PendingEntityWork {
  /** Calls not answered yet. */
  calls: { entity: string; operation: string; taskId: number }[];
  /** The critical section: held, or still being acquired. */
  section?: { entities: string[]; held: boolean };
}

interface CriticalSection {
  id: string;
  lockset: string[];
  held: boolean;
  /** Locked entities with a call in flight. */
  calling: Set<string>;
}

/** The entity half of an orchestration executor. */
export class OrchestrationEntities {
  readonly #waiters = new Map<string, Waiter>();
  #section: CriticalSection | undefined;

  constructor(private readonly host: EntityCallHost) {}

  /** True while the orchestration holds (or is acquiring) locks. */
  get inCriticalSection(): boolean {
    return this.#section !== undefined;
  }

  /** Calls an operation and waits for its result (or its error, as a `TaskFailedError`). */
  callEntity(entity: EntityId, operationName: string, input: unknown): Task<unknown> {
    const target = toEntityId(entity);
    checkOperationName(operationName);
    const id = target.toString();
    const section = this.#section;
    if (section) {
      if (!section.lockset.includes(id)) {
        throw new LockingRulesViolationError(
          `Cannot call entity '${id}' inside a critical section that has not locked it (locked: ${section.lockset.join(', ')}).`,
        );
      }
      if (section.calling.has(id)) {
        throw new LockingRulesViolationError(
          `Cannot call entity '${id}' again while a call to it from this critical section is still in flight.`,
        );
      }
    }
    const requestId = this.host.newUuid();
    const seq = this.#sendRequest(id, requestId, operationName, input, false);
    const task = new CompletableTask<unknown>(seq);
    if (section) section.calling.add(id);
    this.#waiters.set(requestId, {
      entity: id,
      operation: operationName,
      taskId: seq,
      complete: (event) => {
        if (this.#section === section) section?.calling.delete(id);
        const response = decodeEntityResponse(event.input);
        if (response.failureDetails) {
          const message = `Operation '${operationName}' of entity '${id}' failed: ${response.failureDetails.message}`;
          task._fail(new TaskFailedError(message, response.failureDetails, seq));
        } else {
          task._complete(deserialize(response.result));
        }
      },
    });
    return task;
  }

  /** Sends a one-way operation. */
  signalEntity(entity: EntityId, operationName: string, input: unknown): void {
    const target = toEntityId(entity);
    checkOperationName(operationName);
    const id = target.toString();
    if (this.#section?.lockset.includes(id)) {
      throw new LockingRulesViolationError(`Cannot signal entity '${id}' while holding its lock; call it instead.`);
    }
    this.#sendRequest(id, this.host.newUuid(), operationName, input, true);
  }

  /** Acquires locks on `entities` (sorted, de-duplicated); the task's value is the section's handle. */
  lock(entities: readonly EntityId[]): Task<EntityLock> {
    if (this.#section) {
      throw new LockingRulesViolationError(
        'Cannot acquire locks while holding (or acquiring) locks: release the current critical section first.',
      );
    }
    if (!Array.isArray(entities) || entities.length === 0)
      throw new ValidationError('lock needs a non-empty array of EntityId.');
    const byId = new Map(
      entities.map((e) => {
        const entityId = toEntityId(e);
        return [entityId.toString(), entityId] as const;
      }),
    );
    const lockset = [...byId.keys()].sort();
    const id = this.host.newUuid();
    const request: EntityRequest = { id, ...this.#sender(), lockset, position: 0 };
    const seq = this.host.send(lockset[0]!, ENTITY_REQUEST_EVENT, JSON.stringify(request));
    const section: CriticalSection = { id, lockset, held: false, calling: new Set() };
    this.#section = section;
    const handle: EntityLock = {
      entities: lockset.map((e) => byId.get(e)!),
      release: () => this.#release(section),
    };
    const task = new CompletableTask<EntityLock>(seq);
    this.#waiters.set(id, {
      complete: (event) => {
        const response = decodeEntityResponse(event.input);
        if (!response.failureDetails) {
          section.held = true;
          task._complete(handle);
          return;
        }
        if (this.#section === section) this.#section = undefined; // nothing was locked
        task._fail(
          new TaskFailedError(
            `Lock on ${lockset.join(', ')} failed: ${response.failureDetails.message}`,
            response.failureDetails,
            seq,
          ),
        );
      },
    });
    return task;
  }

  /** Calls waiting for an answer and the critical section held or being acquired. */
  pending(): PendingEntityWork {
    const calls = [...this.#waiters.values()].flatMap((w) =>
      w.entity !== undefined ? [{ entity: w.entity, operation: w.operation ?? '', taskId: w.taskId ?? -1 }] : [],
    );
    const section = this.#section;
    return { calls, ...(section ? { section: { entities: [...section.lockset], held: section.held } } : {}) };
  }

  /** Throws when a sub-orchestration may not start now. */
  checkSubOrchestration(): void {
    if (this.#section)
      throw new LockingRulesViolationError(
        'Cannot call a sub-orchestration while holding (or acquiring) entity locks.',
      );
  }

  /** Completes the call or lock request an event answers; false when the event is not an entity response. */
  deliver(event: EventRaisedEvent): boolean {
    const waiter = this.#waiters.get(event.name);
    if (!waiter) return false;
    this.#waiters.delete(event.name);
    waiter.complete(event);
    return true;
  }

  /** The releases of a critical section still open when the orchestration ends. */
  takeFinalReleases(): EntityFinalMessage[] {
    const section = this.#section;
    if (!section) return [];
    this.#section = undefined;
    return this.#releases(section);
  }

  #release(section: CriticalSection): void {
    if (this.#section !== section) return; // released already
    this.#section = undefined;
    for (const message of this.#releases(section)) this.host.send(message.instanceId, message.name, message.input);
  }

  #releases(section: CriticalSection): EntityFinalMessage[] {
    const release: EntityRelease = { id: section.id, parent: this.host.instanceId() };
    const input = JSON.stringify(release);
    return section.lockset.map((instanceId) => ({ instanceId, name: ENTITY_RELEASE_EVENT, input }));
  }

  #sendRequest(target: string, requestId: string, operationName: string, input: unknown, signal: boolean): number {
    const inputText = serialize(
      input,
      `input of operation '${operationName}' on entity '${target}'`,
      this.host.maxPayloadBytes,
    );
    const request: EntityRequest = {
      id: requestId,
      op: operationName,
      ...(signal ? { signal: true } : {}),
      ...(inputText !== undefined ? { input: inputText } : {}),
      ...this.#sender(),
    };
    return this.host.send(target, ENTITY_REQUEST_EVENT, JSON.stringify(request));
  }

  #sender(): Pick<EntityRequest, 'parent' | 'parentExecution' | 'timestamp'> {
    const executionId = this.host.executionId();
    return {
      parent: this.host.instanceId(),
      ...(executionId !== undefined ? { parentExecution: executionId } : {}),
      timestamp: this.host.now().toISOString(),
    };
  }
}
