/**
 * Which connected gRPC worker gets what: how much of which names a sidecar may claim for its workers' free slots,
 * and the least busy worker for one work item. Pure decisions over the workers' filters and in-flight counts.
 */
import type { Registry } from '../sdk/registry.js';
import type { ClaimVersionRule } from '../store/store.js';
import type { WorkKind } from './completion-token.js';
import type { WorkerConnection } from './worker-connection.js';

/** What one claim may take: the names (undefined = any), how many, and the versions each name may have. */
export interface ClaimableWork {
  names: string[] | undefined;
  room: number;
  versions?: Record<string, ClaimVersionRule>;
}

/** True when a function registered in this process serves `name` of `kind`. */
export function servesLocally(registry: Registry, kind: WorkKind, name: string): boolean {
  return kind === 'orchestration' ? registry.hasOrchestration(name) : kind === 'activity' ? registry.activities.has(name) : registry.entities.has(name);
}

/**
 * What to claim for `kinds` (one claim returns any of them): the names (undefined = any) and how many, or
 * undefined when nothing fits. The count never exceeds the free slots of any kind a worker asked for, since the
 * claim cannot choose which kind it gets (claimed work with no free worker would only be released again).
 * `localRules` gives the version rules of what this process serves itself (its app's versioning).
 */
export function claimableWork(
  workers: Iterable<WorkerConnection>,
  kinds: readonly WorkKind[],
  batchSize: number,
  isLocal: (kind: WorkKind, name: string) => boolean,
  localRules: () => Record<string, ClaimVersionRule> | undefined,
): ClaimableWork | undefined {
  let room = batchSize;
  let any = true;
  const names = new Set<string>();
  // Per orchestration name, the versions the workers with room asked for (`'any'`: one asked for every version).
  const versions = new Map<string, Set<string> | 'any'>();
  let wanted = false;
  for (const kind of kinds) {
    let kindRoom = 0;
    let kindWanted = false;
    let kindAny = false;
    for (const worker of workers) {
      if (worker.closed || (worker.filters && worker.filters[kind].size === 0)) continue;
      kindWanted = true;
      const free = worker.room(kind);
      if (free <= 0) continue;
      kindRoom += free;
      if (!worker.filters) kindAny = true;
      else for (const name of worker.filters[kind]) if (!isLocal(kind, name)) names.add(name);
      if (kind !== 'orchestration' || !worker.filters) continue;
      for (const name of worker.filters.orchestration) {
        const asked = worker.orchestrationVersions.get(name);
        const seen = versions.get(name);
        if (asked === undefined || seen === 'any') versions.set(name, 'any');
        else versions.set(name, new Set([...(seen ?? []), ...asked]));
      }
    }
    if (!kindWanted) continue;
    wanted = true;
    room = Math.min(room, kindRoom);
    any &&= kindAny;
  }
  if (!wanted || room <= 0 || (!any && names.size === 0)) return undefined;
  // A worker gets only the name/version pairs it listed; an unfiltered one takes anything, and what this process
  // serves itself follows the app's versioning.
  const rules: Record<string, ClaimVersionRule> = {};
  if (any) {
    Object.assign(rules, localRules());
  } else {
    for (const [name, listed] of versions) if (listed !== 'any' && !isLocal('orchestration', name)) rules[name] = { oneOf: [...listed] };
  }
  return { names: any ? undefined : [...names], room, ...(Object.keys(rules).length ? { versions: rules } : {}) };
}

/** The least busy connected worker that asked for `name` (at `version`), if one has room. */
export function pickWorker(workers: Iterable<WorkerConnection>, kind: WorkKind, name: string, version?: string): WorkerConnection | undefined {
  let best: WorkerConnection | undefined;
  for (const worker of workers) {
    if (!worker.wants(kind, name, version) || worker.room(kind) <= 0) continue;
    // A worker that named this function beats one that takes anything.
    if (!best || (best.filters === undefined && worker.filters !== undefined) || worker.inFlight[kind] < best.inFlight[kind]) best = worker;
  }
  return best;
}
