/**
 * A fault-injecting store: wraps a real {@link Store} and fails (or runs an action, e.g. kill the process)
 * at the Nth call of a chosen {@link HubStore} method. A fault fires either `before` the call reaches the
 * real store (nothing was written) or `after` it returned (it was committed, but the caller never learns
 * so, as when a connection drops before the reply). Every call can also be observed.
 */
import type { ActivityCompletion, ActivityWorkItem, ChildInstancesOptions, ClaimOptions, CommitOutcome, EpisodeCommit, FlowWaitingActivity, HeartbeatOptions, HeartbeatOutcome, HubStore, InstanceFilter, InstanceOverview, InstanceOverviewFilter, InstanceQuery, InstanceRecord, Lease, NewMessage, OrchestrationWorkItem, ScheduleStore, StartInstanceRequest, StartLease, Store, StoreNotice } from '../../src/store/store.js';
import type { HistoryEvent, RuntimeStatus } from '../../src/sdk/history.js';
import type { RegisteredNames } from '../../src/sdk/registry.js';

/** The methods of a hub store a fault can target. */
export type HubMethod = Exclude<keyof HubStore, 'hub'>;

/** Where and when to inject a fault. */
export interface Fault {
  method: HubMethod;
  /** 1-based number of the call (counted per method, across hubs) at which the fault first fires. */
  nth: number;
  /** When set, the fault fires again every `every` calls after the `nth`. */
  every?: number;
  /** `before` (default): the call never reaches the store. `after`: the store call completed first. */
  when?: 'before' | 'after';
  /** What to do instead of throwing an {@link InjectedFaultError} (e.g. SIGKILL the process). */
  action?: (method: HubMethod, call: number) => void;
}

/** The error an injected fault throws. */
export class InjectedFaultError extends Error {
  override readonly name = 'InjectedFaultError';
  constructor(
    readonly method: HubMethod,
    readonly call: number,
    readonly when: 'before' | 'after',
  ) {
    super(`injected fault: ${method} call #${call} (${when})`);
  }
}

/** A call seen by the wrapper. */
export interface ObservedCall {
  method: HubMethod;
  call: number;
  args: unknown[];
  /** The real store's result (undefined when the call threw or never reached the store). */
  result?: unknown;
  /** The fault injected at this call, if any. */
  fault?: 'before' | 'after';
  /** The error the real store threw, if any. */
  error?: unknown;
}

/** A {@link Store} that injects faults into a real one. */
export class FaultyStore implements Store {
  readonly #faults: Fault[];
  readonly #counts = new Map<HubMethod, number>();
  readonly #hubs = new Map<string, FaultyHubStore>();
  readonly #observers: ((call: ObservedCall) => void)[] = [];
  /** Faults injected so far. */
  readonly injected: { method: HubMethod; call: number; when: 'before' | 'after' }[] = [];

  constructor(
    readonly inner: Store,
    faults: Fault[] = [],
  ) {
    this.#faults = [...faults];
  }

  get url(): string {
    return this.inner.url;
  }

  get crossProcessNotices(): boolean {
    return this.inner.crossProcessNotices;
  }

  /** Adds a fault; its `nth` counts from the calls made so far (so `nth: 1` is the next call). */
  addFault(fault: Fault): void {
    this.#faults.push({ ...fault, nth: this.calls(fault.method) + fault.nth });
  }

  /** Removes every fault. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Calls every `listener` with each completed call; returns an unsubscribe function. */
  observe(listener: (call: ObservedCall) => void): () => void {
    this.#observers.push(listener);
    return () => {
      const i = this.#observers.indexOf(listener);
      if (i >= 0) this.#observers.splice(i, 1);
    };
  }

  /** Number of calls of `method` so far. */
  calls(method: HubMethod): number {
    return this.#counts.get(method) ?? 0;
  }

  hub(name: string): HubStore {
    let hub = this.#hubs.get(name);
    if (!hub) {
      hub = new FaultyHubStore(this, this.inner.hub(name));
      this.#hubs.set(name, hub);
    }
    return hub;
  }

  subscribe(hub: string, listener: (notice: StoreNotice) => void): () => void {
    return this.inner.subscribe(hub, listener);
  }

  async ping(): Promise<void> {
    await this.inner.ping?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** @internal Runs one hub call with the faults that apply to it. */
  async run<T>(method: HubMethod, args: unknown[], call: () => Promise<T>): Promise<T> {
    const n = (this.#counts.get(method) ?? 0) + 1;
    this.#counts.set(method, n);
    const fault = this.#faults.find((f) => f.method === method && fires(f, n));
    const when = fault?.when ?? 'before';
    const observed: ObservedCall = { method, call: n, args };
    if (fault && when === 'before') return this.#inject(fault, n, 'before', observed);
    let result: T;
    try {
      result = await call();
    } catch (error) {
      observed.error = error;
      this.#notify(observed);
      throw error;
    }
    observed.result = result;
    if (fault) return this.#inject(fault, n, 'after', observed);
    this.#notify(observed);
    return result;
  }

  #inject(fault: Fault, n: number, when: 'before' | 'after', observed: ObservedCall): never {
    this.injected.push({ method: fault.method, call: n, when });
    observed.fault = when;
    this.#notify(observed);
    fault.action?.(fault.method, n);
    throw new InjectedFaultError(fault.method, n, when);
  }

  #notify(observed: ObservedCall): void {
    for (const listener of this.#observers) listener(observed);
  }
}

function fires(fault: Fault, n: number): boolean {
  if (n === fault.nth) return true;
  return fault.every !== undefined && n > fault.nth && (n - fault.nth) % fault.every === 0;
}

class FaultyHubStore implements HubStore {
  constructor(
    private readonly owner: FaultyStore,
    private readonly inner: HubStore,
  ) {}

  get hub(): string {
    return this.inner.hub;
  }

  /** Schedules are not fault-injected: they pass through to the inner store. */
  get schedules(): ScheduleStore {
    return this.inner.schedules;
  }

  createInstance(request: StartInstanceRequest, lease?: StartLease): Promise<OrchestrationWorkItem | undefined> {
    return this.owner.run('createInstance', [request, lease], () => this.inner.createInstance(request, lease));
  }
  getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    return this.owner.run('getInstance', [instanceId], () => this.inner.getInstance(instanceId));
  }
  getHistory(instanceId: string): Promise<HistoryEvent[]> {
    return this.owner.run('getHistory', [instanceId], () => this.inner.getHistory(instanceId));
  }
  flowWaitingActivities(instanceId: string, limit: number): Promise<FlowWaitingActivity[]> {
    return this.owner.run('flowWaitingActivities', [instanceId, limit], () => this.inner.flowWaitingActivities(instanceId, limit));
  }
  childInstances(parentInstanceId: string, options: ChildInstancesOptions): Promise<InstanceRecord[]> {
    return this.owner.run('childInstances', [parentInstanceId, options], () => this.inner.childInstances(parentInstanceId, options));
  }
  queryInstances(query: InstanceQuery): Promise<{ instances: InstanceRecord[]; continuationToken?: string }> {
    return this.owner.run('queryInstances', [query], () => this.inner.queryInstances(query));
  }
  instanceOverview(filter: InstanceOverviewFilter, window: number): Promise<InstanceOverview> {
    return this.owner.run('instanceOverview', [filter, window], () => this.inner.instanceOverview(filter, window));
  }
  sendMessages(messages: NewMessage[]): Promise<void> {
    return this.owner.run('sendMessages', [messages], () => this.inner.sendMessages(messages));
  }
  debounceStart(request: StartInstanceRequest, key: string, delayMs: number): Promise<{ instanceId: string; replaced: boolean }> {
    return this.owner.run('debounceStart', [request, key, delayMs], () => this.inner.debounceStart(request, key, delayMs));
  }

  sendToLiveInstance(message: NewMessage): Promise<RuntimeStatus | undefined> {
    return this.owner.run('sendToLiveInstance', [message], () => this.inner.sendToLiveInstance(message));
  }
  leaseInstances(instanceIds: readonly string[], options: { workerId: string; leaseMs: number }): Promise<OrchestrationWorkItem[]> {
    return this.owner.run('leaseInstances', [instanceIds, options], () => this.inner.leaseInstances(instanceIds, options));
  }
  requestRewind(instanceId: string, message: NewMessage): Promise<boolean> {
    return this.owner.run('requestRewind', [instanceId, message], () => this.inner.requestRewind(instanceId, message));
  }
  purgeInstances(selector: { instanceId: string } | InstanceFilter): Promise<number> {
    return this.owner.run('purgeInstances', [selector], () => this.inner.purgeInstances(selector));
  }
  registerWorker(workerId: string, names: RegisteredNames): Promise<void> {
    return this.owner.run('registerWorker', [workerId, names], () => this.inner.registerWorker(workerId, names));
  }
  getRegisteredNames(): Promise<RegisteredNames | undefined> {
    return this.owner.run('getRegisteredNames', [], () => this.inner.getRegisteredNames());
  }
  heartbeat(workerId: string, options: HeartbeatOptions): Promise<HeartbeatOutcome> {
    return this.owner.run('heartbeat', [workerId, options], () => this.inner.heartbeat(workerId, options));
  }
  claimOrchestrations(options: ClaimOptions): Promise<OrchestrationWorkItem[]> {
    return this.owner.run('claimOrchestrations', [options], () => this.inner.claimOrchestrations(options));
  }
  commitEpisodes(commits: EpisodeCommit[]): Promise<CommitOutcome[]> {
    return this.owner.run('commitEpisodes', [commits], () => this.inner.commitEpisodes(commits));
  }
  releaseOrchestrations(leases: Lease[]): Promise<void> {
    return this.owner.run('releaseOrchestrations', [leases], () => this.inner.releaseOrchestrations(leases));
  }
  claimActivities(options: ClaimOptions): Promise<ActivityWorkItem[]> {
    return this.owner.run('claimActivities', [options], () => this.inner.claimActivities(options));
  }
  completeActivities(completions: ActivityCompletion[]): Promise<boolean[]> {
    return this.owner.run('completeActivities', [completions], () => this.inner.completeActivities(completions));
  }
  releaseActivities(leases: Lease[]): Promise<void> {
    return this.owner.run('releaseActivities', [leases], () => this.inner.releaseActivities(leases));
  }
  renewLeases(kind: 'orchestration' | 'activity', leases: Lease[], leaseMs: number): Promise<boolean[]> {
    return this.owner.run('renewLeases', [kind, leases, leaseMs], () => this.inner.renewLeases(kind, leases, leaseMs));
  }
  nextVisibleAt(lookBackMs?: number): Promise<Date | undefined> {
    return this.owner.run('nextVisibleAt', [lookBackMs], () => this.inner.nextVisibleAt(lookBackMs));
  }
}
