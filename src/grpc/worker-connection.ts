/**
 * One connected gRPC worker: its `GetWorkItems` stream, the names it asked for (its work-item filters), how much
 * work it may hold per kind, and the health pings that keep the stream alive. The stream is never ended by us; it
 * closes when the worker goes away (cancel, disconnect) or the server shuts down.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { WorkKind } from './completion-token.js';
import type { PbGetWorkItemsRequest, PbWorkItem } from './proto-types.js';
import { sameVersion } from '../sdk/versioning.js';

/** Settings of a connection. */
export interface WorkerConnectionOptions {
  /** Work items per kind a worker may hold when it does not say (default 100). */
  defaultConcurrency: number;
  /** Interval of health pings on the stream. */
  healthPingMs: number;
}

let nextConnection = 1;

/** A worker connected through `GetWorkItems`. */
export class WorkerConnection {
  readonly id = `grpc-worker-${nextConnection++}`;
  /** Names per kind this worker asked for; `undefined` when it sent no filters (it serves any name). */
  readonly filters: Record<WorkKind, ReadonlySet<string>> | undefined;
  /**
   * The versions of the orchestrations it listed with versions (`OrchestrationFilter.versions`); a name listed
   * without versions (or not filtered at all) is wanted at any version.
   */
  readonly orchestrationVersions: ReadonlyMap<string, readonly string[]>;
  readonly capacity: Record<WorkKind, number>;
  readonly inFlight: Record<WorkKind, number> = { orchestration: 0, activity: 0, entity: 0 };
  /** Completion tokens of the work this worker holds. */
  readonly pending = new Set<string>();
  #closed = false;
  readonly #ping: NodeJS.Timeout;
  readonly #onClose: (connection: WorkerConnection) => void;

  constructor(
    private readonly call: ServerWritableStream<PbGetWorkItemsRequest, PbWorkItem>,
    request: PbGetWorkItemsRequest,
    options: WorkerConnectionOptions,
    onClose: (connection: WorkerConnection) => void,
  ) {
    this.#onClose = onClose;
    const f = request.workItemFilters;
    this.filters = f
      ? {
          orchestration: new Set((f.orchestrations ?? []).map((o) => o.name ?? '').filter(Boolean)),
          activity: new Set((f.activities ?? []).map((a) => a.name ?? '').filter(Boolean)),
          entity: new Set((f.entities ?? []).map((e) => (e.name ?? '').toLowerCase()).filter(Boolean)),
        }
      : undefined;
    const versions = new Map<string, string[]>();
    for (const o of f?.orchestrations ?? []) {
      const listed = (o.versions ?? []).filter((v) => v !== '');
      // The same name twice: the versions add up, and a listing without versions takes any.
      if (!o.name || !listed.length || (versions.has(o.name) && versions.get(o.name)!.length === 0)) {
        if (o.name) versions.set(o.name, []);
        continue;
      }
      versions.set(o.name, [...(versions.get(o.name) ?? []), ...listed]);
    }
    this.orchestrationVersions = new Map([...versions].filter(([, v]) => v.length > 0));
    const limit = (n: number | undefined) => (n && n > 0 ? n : options.defaultConcurrency);
    this.capacity = {
      orchestration: limit(request.maxConcurrentOrchestrationWorkItems),
      activity: limit(request.maxConcurrentActivityWorkItems),
      entity: limit(request.maxConcurrentEntityWorkItems),
    };
    batchWrites(call);
    const close = () => this.#close();
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
    call.on('finish', close);
    this.#ping = setInterval(() => this.send({ healthPing: {} }), options.healthPingMs);
    this.#ping.unref();
  }

  /** True once the stream has gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether this worker asked for `name` of `kind` (an unfiltered worker asks for every name), at `version` for orchestrations. */
  wants(kind: WorkKind, name: string, version?: string): boolean {
    if (this.filters !== undefined && !this.filters[kind].has(kind === 'entity' ? name.toLowerCase() : name)) return false;
    const versions = kind === 'orchestration' ? this.orchestrationVersions.get(name) : undefined;
    return versions === undefined || versions.some((v) => sameVersion(v, version));
  }

  /** Free slots for `kind`. */
  room(kind: WorkKind): number {
    return this.#closed ? 0 : Math.max(0, this.capacity[kind] - this.inFlight[kind]);
  }

  /** Writes a work item; false when the stream has gone. */
  send(item: PbWorkItem): boolean {
    if (this.#closed) return false;
    try {
      this.call.write(item);
      return true;
    } catch {
      this.#close();
      return false;
    }
  }

  /** Cancels the stream (server shutdown). */
  end(): void {
    if (this.#closed) return;
    try {
      this.call.end();
    } catch {
      // already gone
    }
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ping);
    this.#onClose(this);
  }
}

/**
 * grpc-js sends a server stream's messages one at a time, each after the previous one reached the socket: one
 * message per event-loop turn, and a turn can hold a blocking SQLite commit. Buffered messages are handed over
 * together instead (Node's `_writev`), so the HTTP/2 stream sends them in one go, in order.
 */
function batchWrites(call: ServerWritableStream<PbGetWorkItemsRequest, PbWorkItem>): void {
  const writable = call as unknown as {
    _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void;
    _writev?: (chunks: { chunk: unknown }[], callback: (error?: Error | null) => void) => void;
  };
  if (typeof writable._write !== 'function' || writable._writev) return;
  writable._writev = (chunks, callback) => {
    let pending = chunks.length;
    let failure: Error | null = null;
    for (const { chunk } of chunks) {
      writable._write(chunk, 'utf8', (error) => {
        failure ??= error ?? null;
        if (--pending === 0) callback(failure);
      });
    }
  };
}
