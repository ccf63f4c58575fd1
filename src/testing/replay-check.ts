/**
 * `replayCheck(app, { store })`: the pre-deploy gate. Replays the stored history of every matching instance
 * (by default those still in flight: Running, Pending, Suspended) against the app's code, with
 * {@link replayHistoryAsync}, and reports per instance whether it would go on or break. The store is opened read-only
 * and never created or changed. `duraflow replay-check` is the same check on the command line.
 */
import type { Blueprint } from '../sdk/blueprint.js';
import { NonDeterministicOrchestrationError, ValidationError } from '../sdk/errors.js';
import type { HistoryEvent, RuntimeStatus } from '../sdk/history.js';
import type { ReplayCheckReport, ReplayCheckResult } from '../sdk/replay-check-report.js';
import { checkVersioningOptions, describeVersion } from '../sdk/versioning.js';
import { VersionGate } from '../runtime/version-gate.js';
import { openStoreReadOnly, resolveStoreUrl } from '../store/open-store.js';
import type { InstanceRecord, Store } from '../store/store.js';
import { appSettings } from './app-settings.js';
import { replayHistoryAsync } from './replay-history.js';
import { readFileSync } from 'node:fs';
import { parseExport } from '../sdk/instance-export.js';

/** The statuses checked by default: the instances a deploy can still break. */
export const IN_FLIGHT_STATUSES: readonly RuntimeStatus[] = ['Running', 'Pending', 'Suspended'];

/** Options of {@link replayCheck}. */
export interface ReplayCheckOptions {
  /** A store URL (opened read-only), or an open store (read, never written); default: the app's store. */
  store?: string | Store;
  /** Task hub (default: the app's). */
  taskHub?: string;
  /** Instances of these statuses (default Running, Pending, Suspended). */
  statuses?: readonly RuntimeStatus[];
  /** Only instances of this orchestration. */
  name?: string;
  /** Check at most this many instances (oldest first). */
  limit?: number;
  /**
   * An export file (`duraflow instances export`) to check instead of a store: every instance in it is replayed
   * (`statuses`, `name` and `limit` still filter; `store` is not opened).
   */
  file?: string;
}

/** Replays the stored histories of an app's instances against its code (see the file comment). */
export async function replayCheck(app: Blueprint, options: ReplayCheckOptions = {}): Promise<ReplayCheckReport> {
  const settings = appSettings(app);
  const taskHub = options.taskHub ?? settings.taskHub;
  const statuses = [...(options.statuses ?? IN_FLIGHT_STATUSES)];
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) throw new ValidationError('limit must be a whole number >= 0.');
  if (options.file !== undefined) return checkExport(app, options.file, options, taskHub);
  const given = typeof options.store === 'object' ? options.store : undefined;
  const store = given ?? (await openStoreReadOnly(typeof options.store === 'string' ? options.store : resolveStoreUrl(storeOf(app))));
  try {
    const hub = store.hub(taskHub);
    const gate = new VersionGate(app.registry, checkVersioningOptions(settings.options.versioning));
    const results: ReplayCheckResult[] = [];
    let token: string | undefined;
    do {
      const page = await hub.queryInstances({ runtimeStatus: statuses, pageSize: 500, ...(token ? { continuationToken: token } : {}) });
      for (const record of page.instances) {
        if (options.name !== undefined && record.name !== options.name) continue;
        if (options.limit !== undefined && results.length >= options.limit) break;
        results.push(await checkOne(app, gate, record, () => hub.getHistory(record.instanceId)));
      }
      token = options.limit !== undefined && results.length >= options.limit ? undefined : page.continuationToken;
    } while (token);
    const broken = results.filter((r) => r.outcome === 'breaks').length;
    return { ok: broken === 0, taskHub, checked: results.length, broken, skipped: results.filter((r) => r.outcome === 'skipped').length, results };
  } finally {
    if (!given) await store.close();
  }
}

async function checkOne(app: Blueprint, gate: VersionGate, record: InstanceRecord, history: () => Promise<HistoryEvent[]>): Promise<ReplayCheckResult> {
  const base = {
    instanceId: record.instanceId,
    name: record.name,
    ...(record.version !== undefined ? { version: record.version } : {}),
    status: record.status,
  };
  if (!app.registry.hasOrchestration(record.name)) {
    return { ...base, outcome: 'breaks', reason: `The orchestration '${record.name}' is not registered in this app: no worker of it would run the instance.` };
  }
  const decision = gate.decide(record.name, record.version);
  if (!decision.run && decision.reject) {
    const why = app.registry.resolveOrchestration(record.name, record.version)
      ? "this app's versioning leaves it to workers that run its version"
      : `this app has no registration for it (registered versions: ${app.registry.orchestrationVersions(record.name).map((v) => `'${v}'`).join(', ')})`;
    return { ...base, outcome: 'skipped', reason: `Version ${describeVersion(record.version)}: ${why}.` };
  }
  if (!decision.run) return { ...base, outcome: 'breaks', reason: decision.error.message };
  const events = await history();
  // Not started yet: it will run the new code from its first step.
  if (!events.some((e) => e.eventType === 'ExecutionStarted')) return { ...base, outcome: 'ok' };
  const replayed = await replayHistoryAsync(app, events);
  if (replayed.ok) return { ...base, outcome: 'ok' };
  const error = replayed.error;
  if (!(error instanceof NonDeterministicOrchestrationError) || (error.recorded === undefined && error.current === undefined)) {
    return { ...base, outcome: 'breaks', reason: error.message };
  }
  const divergence = { ...(error.recorded !== undefined ? { recorded: error.recorded } : {}), ...(error.current !== undefined ? { current: error.current } : {}) };
  return { ...base, outcome: 'breaks', reason: error.message, divergence };
}

/** {@link replayCheck} over the instances of an export file. */
async function checkExport(app: Blueprint, file: string, options: ReplayCheckOptions, taskHub: string): Promise<ReplayCheckReport> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError(`Cannot read the export file '${file}': ${(error as Error).message}`);
  }
  const gate = new VersionGate(app.registry, checkVersioningOptions(appSettings(app).options.versioning));
  const results: ReplayCheckResult[] = [];
  // An explicit status filter applies; the in-flight default does not (an export is often of finished instances).
  const statuses = options.statuses?.length ? new Set(options.statuses) : undefined;
  for (const exported of parseExport(text)) {
    if (statuses && !statuses.has(exported.runtimeStatus)) continue;
    if (options.name !== undefined && exported.name !== options.name) continue;
    if (options.limit !== undefined && results.length >= options.limit) break;
    const record = {
      instanceId: exported.instanceId,
      name: exported.name,
      ...(exported.version !== undefined ? { version: exported.version } : {}),
      status: exported.runtimeStatus,
    } as InstanceRecord;
    results.push(await checkOne(app, gate, record, async () => exported.history));
  }
  const broken = results.filter((r) => r.outcome === 'breaks').length;
  return { ok: broken === 0, taskHub, checked: results.length, broken, skipped: results.filter((r) => r.outcome === 'skipped').length, results };
}

/** The store URL a `DFApp` names (a blueprint names none). */
function storeOf(app: Blueprint): string | undefined {
  const store: unknown = appSettings(app).options.store;
  return typeof store === 'string' ? store : undefined;
}
