/**
 * One task hub in the SQLite store. Thin: each operation is one write (or read) of its concept file —
 * instances and queries on the client side, episodes and activities on the worker side. Methods return the
 * concept's promise as is, so callers see the same promise timing as before the split.
 */
import { debounceStart } from './sqlite-debounce.js';
import type { HistoryEvent, RuntimeStatus } from '../../sdk/history.js';
import type {
  ChildInstancesOptions,
  FlowWaitingActivity,
  ActivityCompletion,
  ActivityWorkItem,
  ClaimOptions,
  CommitOutcome,
  EpisodeCommit,
  HeartbeatOptions,
  HeartbeatOutcome,
  HubSnapshot,
  HubStore,
  InstanceFilter,
  InstanceOverview,
  InstanceOverviewFilter,
  InstanceQuery,
  InstanceRecord,
  Lease,
  NewMessage,
  OrchestrationWorkItem,
  ScheduleStore,
  StartInstanceRequest,
  StartLease,
} from '../store.js';
import type { RegisteredNames } from '../../sdk/registry.js';
import { claimActivities, completeActivities, nextVisibleAt, releaseActivities, renewLeases } from './sqlite-activities.js';
import type { SqliteStoreContext } from './sqlite-context.js';
import { claimOrchestrations, commitEpisodes, leaseInstances, releaseOrchestrations } from './sqlite-episodes.js';
import { heartbeat } from './sqlite-liveness.js';
import { metricsSnapshot } from './sqlite-metrics.js';
import {
  createInstance,
  getHistory,
  getInstance,
  getRegisteredNames,
  purgeInstances,
  registerWorker,
  requestRewind,
  sendMessages,
  sendToLiveInstance,
} from './sqlite-instances.js';
import { childInstances, instanceOverview, queryInstances } from './sqlite-queries.js';
import { SqliteSchedules } from './sqlite-schedules.js';
import { flowWaitingActivities } from './sqlite-flow.js';

/** The HubStore of one task hub on SQLite. */
export class SqliteHubStore implements HubStore {
  readonly schedules: ScheduleStore;

  constructor(
    private readonly store: SqliteStoreContext,
    readonly hub: string,
  ) {
    this.schedules = new SqliteSchedules(store, hub);
  }

  // ---- client side ----------------------------------------------------------------------------

  createInstance(request: StartInstanceRequest, lease?: StartLease): Promise<OrchestrationWorkItem | undefined> {
    return createInstance(this.store, this.hub, request, lease);
  }

  getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    return getInstance(this.store, this.hub, instanceId);
  }

  getHistory(instanceId: string): Promise<HistoryEvent[]> {
    return getHistory(this.store, this.hub, instanceId);
  }

  queryInstances(query: InstanceQuery): Promise<{ instances: InstanceRecord[]; continuationToken?: string }> {
    return queryInstances(this.store, this.hub, query);
  }

  instanceOverview(filter: InstanceOverviewFilter, window: number): Promise<InstanceOverview> {
    return instanceOverview(this.store, this.hub, filter, window);
  }

  async flowWaitingActivities(instanceId: string, limit: number): Promise<FlowWaitingActivity[]> {
    return flowWaitingActivities(this.store, this.hub, instanceId, limit);
  }

  childInstances(parentInstanceId: string, options: ChildInstancesOptions): Promise<InstanceRecord[]> {
    return childInstances(this.store, this.hub, parentInstanceId, options);
  }

  sendMessages(messages: NewMessage[]): Promise<void> {
    return sendMessages(this.store, this.hub, messages);
  }

  debounceStart(request: StartInstanceRequest, key: string, delayMs: number): Promise<{ instanceId: string; replaced: boolean }> {
    return debounceStart(this.store, this.hub, request, key, delayMs);
  }

  sendToLiveInstance(message: NewMessage): Promise<RuntimeStatus | undefined> {
    return sendToLiveInstance(this.store, this.hub, message);
  }

  requestRewind(instanceId: string, message: NewMessage): Promise<boolean> {
    return requestRewind(this.store, this.hub, instanceId, message);
  }

  purgeInstances(selector: { instanceId: string } | InstanceFilter): Promise<number> {
    return purgeInstances(this.store, this.hub, selector);
  }

  registerWorker(workerId: string, names: RegisteredNames): Promise<void> {
    return registerWorker(this.store, this.hub, workerId, names);
  }

  getRegisteredNames(): Promise<RegisteredNames | undefined> {
    return getRegisteredNames(this.store, this.hub);
  }

  heartbeat(workerId: string, options: HeartbeatOptions): Promise<HeartbeatOutcome> {
    return heartbeat(this.store, this.hub, workerId, options);
  }

  // ---- worker side ----------------------------------------------------------------------------

  claimOrchestrations(options: ClaimOptions): Promise<OrchestrationWorkItem[]> {
    return claimOrchestrations(this.store, this.hub, options);
  }

  leaseInstances(instanceIds: readonly string[], options: { workerId: string; leaseMs: number }): Promise<OrchestrationWorkItem[]> {
    return leaseInstances(this.store, this.hub, instanceIds, options);
  }

  commitEpisodes(commits: EpisodeCommit[]): Promise<CommitOutcome[]> {
    return commitEpisodes(this.store, this.hub, commits);
  }

  releaseOrchestrations(leases: Lease[]): Promise<void> {
    return releaseOrchestrations(this.store, this.hub, leases);
  }

  claimActivities(options: ClaimOptions): Promise<ActivityWorkItem[]> {
    return claimActivities(this.store, this.hub, options);
  }

  completeActivities(completions: ActivityCompletion[]): Promise<boolean[]> {
    return completeActivities(this.store, this.hub, completions);
  }

  releaseActivities(leases: Lease[]): Promise<void> {
    return releaseActivities(this.store, this.hub, leases);
  }

  renewLeases(kind: 'orchestration' | 'activity', leases: Lease[], leaseMs: number): Promise<boolean[]> {
    return renewLeases(this.store, this.hub, kind, leases, leaseMs);
  }

  nextVisibleAt(lookBackMs?: number): Promise<Date | undefined> {
    return nextVisibleAt(this.store, this.hub, lookBackMs);
  }

  metricsSnapshot(): Promise<HubSnapshot> {
    return metricsSnapshot(this.store, this.hub);
  }
}
