/**
 * The storage contract. Every store (SQLite, PostgreSQL) implements it and passes the one conformance
 * suite in `test/store/store-conformance.ts`. The runtime and the client only ever talk to a store through it.
 *
 * Model (DTFx's): instances with an inbox of messages; a worker leases an instance that has visible
 * messages, runs an episode, and commits everything it produced in one transaction fenced by the lease.
 */
import type { RegisteredNames } from '../sdk/registry.js';
import type { FailureDetails, HistoryEvent, ParentInstanceInfo, RuntimeStatus, TraceContext } from '../sdk/history.js';
import type { InstanceTags } from '../sdk/tags.js';
import type { ScheduleRecord, SchedulePutOutcome } from './schedule-record.js';

/** One orchestration (or entity) instance, as stored. */
export interface InstanceRecord {
  instanceId: string;
  name: string;
  version?: string;
  executionId: string;
  status: RuntimeStatus;
  /** JSON text. */
  input?: string;
  /** JSON text (Completed) or the reason (Terminated). */
  output?: string;
  /** JSON text. */
  customStatus?: string;
  failureDetails?: FailureDetails;
  parentInstanceId?: string;
  createdAt: Date;
  lastUpdatedAt: Date;
  /** Number of history events of the current execution; a worker's cached executor is valid while it matches. */
  historyLength: number;
  /** Set at creation (checked by `checkTags`), never changed by episodes: continue-as-new keeps them. */
  tags?: InstanceTags;
  /** The limits it was started with (see {@link StartInstanceRequest.flow}). */
  flow?: FlowControl;
  /** Its start's priority, when not 0. */
  priority?: number;
}

/** A fencing token: a commit is accepted only while `epoch` is still the row's current epoch. */
export interface Lease {
  /** Instance id (orchestrations) or work item id (activities). */
  id: string;
  epoch: number;
}

/**
 * A message to put into an instance's inbox. A message to a missing instance is dropped, except that a message
 * to an entity id (`@name@key`) first creates the entity's instance row: name = the entity name (see
 * `entityNameOf`), status `Running`, execution id `''`, no history. Entity rows keep their scheduler state
 * (JSON) in `input`; an entity episode commits it like any episode.
 */
export interface NewMessage {
  instanceId: string;
  /** When set, the message is dropped if the instance has moved on to another execution. */
  executionId?: string;
  event: HistoryEvent;
  /** Not delivered before this time (timers); default now. */
  visibleAt?: Date;
}

/** A message in an inbox. */
export interface InboxMessage {
  id: number;
  instanceId: string;
  executionId?: string;
  event: HistoryEvent;
}

/** Everything needed to create (or re-create) an instance with its ExecutionStarted message. */
export interface StartInstanceRequest {
  instanceId: string;
  name: string;
  version?: string;
  executionId: string;
  /** JSON text. */
  input?: string;
  parentInstance?: ParentInstanceInfo;
  /** Already checked (`checkTags`); absent or empty: none. */
  tags?: InstanceTags;
  /** Limits on when its episodes may be claimed (`concurrency`) and when it may first start (`rate`). */
  flow?: FlowControl;
  /** Higher is claimed first among waiting instances of its name; FIFO within a priority (default 0). */
  priority?: number;
  /** The ExecutionStarted event delivered to the new instance. */
  startEvent: HistoryEvent;
}

/** Who a new instance is leased to at creation (see {@link HubStore.createInstance}). */
export interface StartLease {
  workerId: string;
  leaseMs: number;
}

/** An instance leased for one episode. */
export interface OrchestrationWorkItem {
  instance: InstanceRecord;
  messages: InboxMessage[];
  lease: Lease;
  /** Set by a claim that took the instance over from this worker, whose lease had expired (for the log). */
  previousOwner?: string;
}

/** An activity leased for one run. */
export interface ActivityWorkItem {
  id: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  input?: string;
  dequeueCount: number;
  lease: Lease;
  /** Set by a claim that took the activity over from this worker, whose lease had expired (for the log). */
  previousOwner?: string;
  /** The span that scheduled it (its TaskScheduled's): every attempt's span is a child. */
  traceContext?: TraceContext;
}

/**
 * Flow control of one work item (an activity or an instance), computed when it was scheduled and stored with
 * it, so every worker of the hub enforces the same limits in its claims (see `sdk/flow-control.ts`).
 */
export interface FlowControl {
  /** At most `limit` work items of this kind, name and key leased at once; the rest wait, FIFO per key. */
  concurrency?: { key: string; limit: number };
  /** At most `limit` claims of this kind, name and key per sliding `periodMs`. */
  rate?: { key: string; limit: number; periodMs: number };
}

/** A flow-controlled activity of an instance that is not leased now, with the counts a claim checks its limits against. */
export interface FlowWaitingActivity {
  taskId: number;
  name: string;
  flow: FlowControl;
  /** Activities of its name and concurrency key leased now (0 without a concurrency key). */
  leased: number;
  /** Claims of its name and rate key within the current period (0 without a rate). */
  started: number;
}

/** A new activity to run. */
export interface NewActivity {
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  input?: string;
  /** Limits on when it may be claimed; such an activity is never `runHere` (a claim checks the limits). */
  flow?: FlowControl;
  /** Higher is claimed first among waiting activities of its name; FIFO within a priority (default 0). */
  priority?: number;
  /** Create it already leased to the committing worker ({@link EpisodeCommit.activityLease}), which runs it at once. */
  runHere?: boolean;
  /** Stored with the work item (see {@link ActivityWorkItem.traceContext}). */
  traceContext?: TraceContext;
}

/**
 * The lease of the activities an episode marks `runHere`: they are created leased to `workerId` (lease epoch 1,
 * first dequeue), so the worker that scheduled them runs them without claiming them. On a successful commit the
 * store puts their work items in `leased`; on `lease-lost` it stays empty.
 */
export interface ActivityLeaseRequest {
  workerId: string;
  leaseMs: number;
  leased: ActivityWorkItem[];
}

/** The mutable fields of an instance after an episode. */
export interface InstanceUpdate {
  status: RuntimeStatus;
  executionId: string;
  name: string;
  version?: string;
  /** JSON text; ignored with `keepInput`. */
  input?: string;
  /**
   * Leave the stored input as it is: an orchestration's steps never change it, so it is neither sent nor
   * rewritten with each commit (which matters for large inputs). Entities keep their state in `input` and
   * continue-as-new replaces it, so those send it.
   */
  keepInput?: boolean;
  output?: string;
  customStatus?: string;
  failureDetails?: FailureDetails;
}

/** All that one episode wrote, committed atomically and only while the lease holds. */
export interface EpisodeCommit {
  lease: Lease;
  /** `replace` starts a new history (continue-as-new, rewind); `append` adds to it. */
  historyMode: 'append' | 'replace';
  history: HistoryEvent[];
  /** Inbox messages this episode consumed. */
  consumedMessageIds: number[];
  /**
   * Activity work items whose results the episode took from memory instead of the inbox (the worker ran
   * them and holds their leases). The commit deletes them, and writes nothing at all (`lease-lost`) unless
   * every one of these leases is still held.
   */
  completedActivities?: Lease[];
  instance: InstanceUpdate;
  activities: NewActivity[];
  /** Where the activities marked `runHere` are leased (ignored when none is marked). */
  activityLease?: ActivityLeaseRequest;
  /** Messages to this or other instances (timers are messages visible later). */
  messages: NewMessage[];
  /** Sub-orchestrations to create; when the id is taken by a live instance, `onConflict` is sent instead. */
  startInstances: { request: StartInstanceRequest; onConflict: NewMessage }[];
  /** Asks the store to keep the lease when more messages wait for the instance (see {@link ContinuedLease}). */
  continueLease?: ContinuedLease;
  /** The start this is the first episode of, created in the same transaction (see {@link FusedStart}). */
  start?: FusedStart;
}

/**
 * A start committed together with its first episode: one durable write instead of two. The store creates
 * `request` as `createInstance` would with `lease`, without a start message (the episode consumed it), and fences
 * the episode by the new instance's epoch, which it writes into the commit's `lease.epoch` once committed, with the
 * creation time into `createdAt`. When a live instance holds the id, nothing of the commit is written: its outcome
 * is `lease-lost` and `conflict` names that instance's status.
 */
export interface FusedStart {
  request: StartInstanceRequest;
  lease: StartLease;
  /** Set by the store: the status of the live instance that holds the id. */
  conflict?: RuntimeStatus;
  /** Set by the store: when the instance was created (epoch ms). */
  createdAt?: number;
}

/**
 * The lease an episode commit may keep: when the instance stays `Running` (and is not flow-controlled) and more
 * messages are visible in its inbox, a store that supports it leaves the instance leased to `workerId` for
 * `leaseMs` under the SAME epoch and puts the next work item (the committed instance and those messages) in
 * `next` — the next episode without a claim, in the commit's round trip. Without `next` the lease ended as
 * usual. Either way, a commit fenced by that epoch fails once anyone else leased the instance.
 */
export interface ContinuedLease {
  workerId: string;
  leaseMs: number;
  next?: OrchestrationWorkItem;
}

/** Result of committing one episode. */
export type CommitOutcome = 'committed' | 'lease-lost';

/** An activity's result, committed into its orchestration's inbox. */
export interface ActivityCompletion {
  lease: Lease;
  message: NewMessage;
}

/** Filters of instance queries. */
export interface InstanceFilter {
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  /** Only finished instances (Completed, Failed, Terminated, Canceled) that finished at or after this time. */
  completedTimeFrom?: Date;
  /** Only finished instances that finished at or before this time. */
  completedTimeTo?: Date;
  runtimeStatus?: RuntimeStatus[];
  instanceIdPrefix?: string;
  /** Only instances of this version, compared as `compareVersions` compares (`''`: instances without a version). */
  version?: string;
  /** Only instances carrying every one of these tags (exact, case-sensitive values); empty matches all. */
  tags?: InstanceTags;
}

/** A page of an instance query. */
export interface InstanceQuery extends InstanceFilter {
  pageSize?: number;
  /**
   * Where the previous page ended: the token it returned. In `instanceId` order the token is the last instance id
   * of the previous page (any id may be given: the page starts after it).
   */
  continuationToken?: string;
  /** `created` (the default): by creation time, then id. `instanceId`: by id alone. */
  orderBy?: 'created' | 'instanceId';
  /** Newest (or highest id) first; a token continues in the order that returned it. */
  descending?: boolean;
  /** Only instances whose name contains this text, ASCII letters compared case-insensitively (the dashboard's name filter). */
  nameContains?: string;
  /**
   * With a filter no index serves (name, version, tags, id prefix) or a status or completion-time filter: look at
   * only the next `scanLimit` instances of the time range (1 to 1,000,000), so a rare match costs bounded work. The page may then hold fewer than
   * `pageSize` instances, even none, and still carry a token: it continues after the last instance looked at.
   */
  scanLimit?: number;
}

/** The filter of {@link HubStore.instanceOverview}: an instance filter and the dashboard's name filter. */
export type InstanceOverviewFilter = InstanceFilter & Pick<InstanceQuery, 'nameContains'>;

/**
 * What the dashboard's counts and histogram need, read in bounded work at any table size: the unfinished
 * statuses exactly (a partial index holds only those rows), and the newest `window` matching instances.
 */
export interface InstanceOverview {
  /**
   * Matching instances not finished, by status (exact); absent with a filter no index serves (name, version,
   * tags, id prefix), whose test on every unfinished row would cost a table read each.
   */
  unfinished?: Record<'Pending' | 'Running' | 'Suspended', number>;
  /** The newest matching instances (at most `window`, newest first): creation time (ms) and status. */
  recent: { createdAt: number; status: RuntimeStatus }[];
  /**
   * True when a filter no index serves (name, version, tags, id prefix) was applied to only the newest
   * 2 × `window` instances of the time range and more were there (so `recent` may miss older matches); the
   * scan stays bounded.
   */
  scanCapped: boolean;
}

/**
 * A registered name that stands for every name of its kind: a gRPC worker that sent no work-item filters
 * serves whatever no local function serves.
 */
export const ANY_NAME = '*';

/**
 * The row an episode commit left when it made an instance terminal: every column the commit wrote, and the
 * time it stored as `lastUpdatedAt`. `input` is absent under `keepInput` (the stored input did not change).
 */
export type FinalInstanceState = InstanceUpdate & { lastUpdatedAt: Date };

/**
 * What a store tells its listeners. `orchestrations`: new inbox work may be claimable; with `instanceId`, the
 * work is messages to that one instance only (a worker that holds the instance's lease and commits its next
 * episode after hearing it needs no claim for them: that commit finds them, see {@link ContinuedLease}).
 * `timers`: a message that becomes visible later was written (a durable
 * timer, a retry, a scheduled start or signal), so an earlier {@link HubStore.nextVisibleAt} may be stale.
 * `instance`: that instance's status changed; when an episode commit in this process made it terminal, `final`
 * carries what it wrote, so a waiter needs no read (only in-process: never sent to other processes).
 * `instances`: some instance's status may have changed but the store cannot tell which (SQLite saw another
 * process commit), so whoever waits for a status reads it again.
 * `schedules`: a schedule was created, changed, run or deleted (its next due time may differ).
 */
export type StoreNotice =
  | { kind: 'orchestrations'; instanceId?: string }
  | { kind: 'activities' }
  | { kind: 'timers' }
  | { kind: 'instance'; instanceId: string; status: RuntimeStatus; final?: FinalInstanceState }
  | { kind: 'instances' }
  | { kind: 'schedules' };

/**
 * Which versions of one orchestration name a claim takes, compared as `compareVersions` compares (`''` stands
 * for an instance without a version). Both conditions hold when both are given.
 */
export interface ClaimVersionRule {
  /** Only these versions. */
  oneOf?: readonly string[];
  /** Only versions up to this one (`''`: only instances without a version). */
  atMost?: string;
}

/** Options of a claim. */
export interface ClaimOptions {
  workerId: string;
  /** Only work for these names (undefined: any). */
  names?: readonly string[];
  /**
   * Per orchestration name, the versions to take (a worker's versioning, side-by-side registrations, a gRPC
   * worker's version filters); instances of names without a rule, and entities, are taken at any version.
   */
  versions?: Readonly<Record<string, ClaimVersionRule>>;
  limit: number;
  leaseMs: number;
}

/** Options of {@link HubStore.heartbeat}. */
export interface HeartbeatOptions {
  /** How long from now (database time) the worker counts as alive without another heartbeat. */
  timeoutMs: number;
  /**
   * The first heartbeat of a worker process: leases still held under its id belong to a predecessor with the
   * same id (a restart with a stable `workerId`), which is dead, so they are taken over at once.
   */
  starting?: boolean;
}

/** Leases a heartbeat took over from one dead worker (see {@link HubStore.heartbeat}). */
export interface WorkerTakeover {
  workerId: string;
  /** Instance leases voided. */
  orchestrations: number;
  /** Activity leases voided. */
  activities: number;
}

/** What {@link HubStore.heartbeat} found and did. */
export interface HeartbeatOutcome {
  /** False when the worker is not registered (nothing was written): register it, then beat again. */
  registered: boolean;
  /**
   * True when this worker's previous heartbeat had run out (or it was taken over): others may have taken over its
   * leases, so its commits on them are fenced off. Such a heartbeat takes over nobody (see `heartbeat`).
   */
  lapsed: boolean;
  /** The dead workers whose leases this heartbeat took over (with the predecessor's, when `starting`). */
  takenOver: WorkerTakeover[];
}

/** Hub-wide numbers for metrics, each read through an index (no table scan per scrape). */
export interface HubSnapshot {
  /** Orchestration instances (not entities) not yet finished, by status. */
  instances: Partial<Record<'Pending' | 'Running' | 'Suspended', number>>;
  /** Inbox messages visible now. */
  visibleMessages: number;
  /** How long the oldest visible message has been visible (0 when none is). */
  oldestVisibleMs: number;
  /** Activities not leased now (waiting for a worker). */
  runnableActivities: number;
  /** Workers whose heartbeat has not run out. */
  workersAlive: number;
}

/** Options of {@link HubStore.childInstances}. */
export interface ChildInstancesOptions {
  /** The page size, 1 to 1,000. */
  limit: number;
  /** Only children whose id sorts after this one (byte-wise): the last id of the previous page. */
  after?: string;
}

/** One task hub inside a store. All methods are atomic. */
export interface HubStore {
  readonly hub: string;
  /** The hub's schedules (see `schedule-record.ts`). */
  readonly schedules: ScheduleStore;

  // --- client side ---
  /**
   * Creates an instance (Pending) and sends its ExecutionStarted; refuses ids of live instances. With `lease`
   * the instance is created already leased to that worker (fresh epoch) and its work item — the instance with
   * its ExecutionStarted message — is returned, so a worker in the client's process runs the first episode
   * without a claim; no orchestration notice goes out then, since no other worker could take it.
   */
  createInstance(request: StartInstanceRequest, lease?: StartLease): Promise<OrchestrationWorkItem | undefined>;
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  /** History of the current execution, in order. */
  getHistory(instanceId: string): Promise<HistoryEvent[]>;
  queryInstances(query: InstanceQuery): Promise<{ instances: InstanceRecord[]; continuationToken?: string }>;
  /**
   * Counts of unfinished matching instances and the newest `window` (1 to 100,000) matching ones, for the
   * dashboard: reads the unfinished rows of the range and at most `window` rows of an index (2 × `window` with a
   * filter no index serves, see {@link InstanceOverview.scanCapped}).
   */
  instanceOverview(filter: InstanceOverviewFilter, window: number): Promise<InstanceOverview>;
  /**
   * A debounced start (`startNew(name, { debounce: { key, delayMs } })`): while an instance of `request.name`
   * started with this `key` is still waiting for its start (Pending, its start message not yet visible), replaces
   * that instance's input with `request.input` — its start time stays — and answers its id with `replaced`; else
   * creates `request` (refusing the id of a live instance, as `createInstance` does) with its start message
   * visible `delayMs` from now. Concurrent calls with one name and key find the same instance.
   */
  debounceStart(request: StartInstanceRequest, key: string, delayMs: number): Promise<{ instanceId: string; replaced: boolean }>;
  /**
   * The instance's flow-controlled activities not leased now (at most `limit`, 1 to 1,000, oldest first), read
   * through the instance's own rows, each with its key's leased and started counts (the dashboard's "Waiting for").
   */
  flowWaitingActivities(instanceId: string, limit: number): Promise<FlowWaitingActivity[]>;
  /**
   * One page of the instances started as sub-orchestrations of `parentInstanceId` (their `parentInstanceId`),
   * by any of its executions — also those started before a continue-as-new replaced its history — in any status:
   * at most `options.limit` (1 to 1,000), in instance id order, after `options.after` (the last id of the previous
   * page) when given. One level only: the children's own children are theirs to list. Read through an index of
   * the children's rows; an id no instance has answers an empty page.
   */
  childInstances(parentInstanceId: string, options: ChildInstancesOptions): Promise<InstanceRecord[]>;
  /** Sends messages to existing instances. */
  sendMessages(messages: NewMessage[]): Promise<void>;
  /**
   * Sends `message` to its instance only while that instance exists and is not terminal, in one write with no
   * read before it (one round trip on PostgreSQL): answers the status the instance had — nothing is written
   * when it is terminal — or undefined when there is no such instance.
   */
  sendToLiveInstance(message: NewMessage): Promise<RuntimeStatus | undefined>;
  /**
   * Asks for the rewind of a Failed instance: atomically moves it to Pending (so no reader takes the old
   * failure as final any more) and queues `message` (its ExecutionRewound). False, writing nothing, when
   * the instance is not Failed.
   */
  requestRewind(instanceId: string, message: NewMessage): Promise<boolean>;
  /**
   * Deletes terminal instances with their history; returns how many were deleted. An entity instance (`@…`)
   * with messages in its inbox is not deleted (the messages would be lost).
   */
  purgeInstances(selector: { instanceId: string } | InstanceFilter): Promise<number>;
  registerWorker(workerId: string, names: RegisteredNames): Promise<void>;
  /** Union of the names served by registered workers; undefined while no worker ever registered. */
  getRegisteredNames(): Promise<RegisteredNames | undefined>;
  /**
   * Worker liveness, in database time. Marks registered worker `workerId` alive for `timeoutMs`, then takes over
   * from every worker of the hub whose heartbeat has run out: the leases they still hold (instances and
   * activities) become free at once, each under a new epoch so that a holder that was only paused is fenced
   * off, and the dead worker is marked taken over, so this happens once (a worker that beats again later
   * counts as alive again). A heartbeat that finds its own worker's previous one run out takes over nobody:
   * the store may have been out of reach for everyone, and the others get the chance to beat first. Leases of
   * workers that never sent a heartbeat are left to expire. Emits `orchestrations` and `activities` notices
   * when it took over anything.
   */
  heartbeat(workerId: string, options: HeartbeatOptions): Promise<HeartbeatOutcome>;

  // --- worker side ---
  claimOrchestrations(options: ClaimOptions): Promise<OrchestrationWorkItem[]>;
  /**
   * Leases these instances if they are Running and their lease is free, with their visible messages (maybe
   * none): for an episode fed results this worker holds in memory (see `EpisodeCommit.completedActivities`).
   */
  leaseInstances(instanceIds: readonly string[], options: { workerId: string; leaseMs: number }): Promise<OrchestrationWorkItem[]>;
  /** Commits episodes in one transaction; each is fenced by its own lease. */
  commitEpisodes(commits: EpisodeCommit[]): Promise<CommitOutcome[]>;
  /** Gives up leases without committing (the messages stay and are claimable again). */
  releaseOrchestrations(leases: Lease[]): Promise<void>;
  claimActivities(options: ClaimOptions): Promise<ActivityWorkItem[]>;
  /** Deletes the work items and delivers their results; false for a lease that was lost. */
  completeActivities(completions: ActivityCompletion[]): Promise<boolean[]>;
  releaseActivities(leases: Lease[]): Promise<void>;
  /** Extends leases; returns which are still held. */
  renewLeases(kind: 'orchestration' | 'activity', leases: Lease[], leaseMs: number): Promise<boolean[]>;
  /**
   * Earliest time at which a message or activity becomes visible (timers, lease expiries), if any, counting
   * what became visible in the last `lookBackMs` (default 0: only the future). A dispatch loop passes the time
   * since its claim began: whatever became visible after that claim looked is due now, not forgotten.
   */
  nextVisibleAt(lookBackMs?: number): Promise<Date | undefined>;
  /** Numbers for `GET /metrics` (both stores implement it; a wrapper may not). */
  metricsSnapshot?(): Promise<HubSnapshot>;
}

/** A store: a database holding any number of task hubs. */
export interface Store {
  readonly url: string;
  hub(name: string): HubStore;
  /** Subscribes to work and status notices (in-process, and across processes where the store can). */
  subscribe(hub: string, listener: (notice: StoreNotice) => void): () => void;
  /** True when notices from other processes arrive too (so polling can be rare). */
  readonly crossProcessNotices: boolean;
  /**
   * Resolves when the database answers a trivial query (no table scan): the readiness probe's check. Both
   * stores implement it; a wrapper that does not is probed through a small hub read instead.
   */
  ping?(): Promise<void>;
  /**
   * Checks that the store is sound before a host or worker starts on it: SQLite runs `PRAGMA quick_check` (its
   * cost is one read of the whole file) and throws a `StoreError` ('corrupt') naming the file and what is wrong.
   * Stores without such a check leave it out.
   */
  verify?(): Promise<void>;
  close(): Promise<void>;
}

/** A run written with a schedule (see {@link ScheduleStore.put}). */
export interface ScheduleRunStart {
  request: StartInstanceRequest;
  /**
   * Not before this time in the store's clock (PostgreSQL: the database's): a worker whose clock runs ahead
   * cannot start a run early. The put answers `early` and writes nothing.
   */
  notBefore?: number;
}

/** The schedules of one task hub. All methods are atomic. */
export interface ScheduleStore {
  get(scheduleId: string): Promise<ScheduleRecord | undefined>;
  /** Every schedule, by id. */
  list(): Promise<ScheduleRecord[]>;
  /**
   * The schedules a worker must look at now: Active ones whose next due time has come (in the store's clock),
   * and those with a buffered run; with the store's clock at the time (`now`, epoch ms), which a worker plans
   * with, so that a worker whose own clock is off neither runs early nor misses the window.
   */
  due(): Promise<{ now: number; schedules: ScheduleRecord[] }>;
  /** The earliest next due time of an Active schedule, on this process's clock (re-based like `nextVisibleAt`). */
  nextDueAt(): Promise<Date | undefined>;
  /**
   * Writes `record` if the stored row's revision is `expected` (`'absent'`: only if there is no row), under
   * revision `expected + 1` (or 1); `conflict` otherwise, writing nothing. With `run`, the same transaction also
   * creates that instance with its start message — unless an instance of its id exists, in any status (then
   * the record is written and the instance left alone).
   */
  put(record: ScheduleRecord, expected: number | 'absent', run?: ScheduleRunStart): Promise<SchedulePutOutcome>;
  /** Deletes the schedule (its instances stay); false when there was none. */
  delete(scheduleId: string): Promise<boolean>;
}
