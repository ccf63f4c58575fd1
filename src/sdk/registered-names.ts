/**
 * The names (and orchestration versions) the workers of a task hub serve, as they record them in the store: the
 * union of several workers' registrations, and which versions of an orchestration are served.
 */
import type { RegisteredNames } from './registry.js';
import { compareVersions, latestVersion, sameVersion } from './versioning.js';

/** Stands for every name of its kind (a gRPC worker without filters); the store's `ANY_NAME` is the same text. */
const ANY = '*';

/** The union of registrations: every name any of them serves, at every version any of them serves it. */
export function unionRegisteredNames(registrations: readonly RegisteredNames[]): RegisteredNames {
  const union = (pick: (r: RegisteredNames) => readonly string[]) => [...new Set(registrations.flatMap(pick))].sort();
  const orchestrations = union((r) => r.orchestrations);
  const versions: Record<string, string[]> = {};
  for (const name of orchestrations) {
    const listing = registrations.filter((r) => r.orchestrations.includes(name));
    // One worker that serves the name at any version makes it served at any version.
    if (listing.some((r) => r.orchestrationVersions?.[name] === undefined)) continue;
    const all = listing.flatMap((r) => r.orchestrationVersions![name]!);
    versions[name] = all.filter((v, i) => all.findIndex((w) => sameVersion(v, w)) === i).sort(compareVersions);
  }
  const defaultVersion = latestVersion(registrations.flatMap((r) => (r.defaultVersion !== undefined ? [r.defaultVersion] : [])));
  return {
    orchestrations,
    activities: union((r) => r.activities),
    entities: union((r) => r.entities),
    ...(Object.keys(versions).length ? { orchestrationVersions: versions } : {}),
    ...(defaultVersion !== undefined ? { defaultVersion } : {}),
  };
}

/**
 * Which versions of orchestration `name` a registration serves: `'any'`, the versions (oldest first), or
 * undefined when it does not serve the name at all.
 */
export function servedVersions(names: RegisteredNames, name: string): 'any' | string[] | undefined {
  if (names.orchestrations.includes(ANY)) return 'any';
  if (!names.orchestrations.includes(name)) return undefined;
  const versions = names.orchestrationVersions?.[name];
  return versions === undefined || versions.includes('') ? 'any' : versions;
}

/** True when a registration serves orchestration `name` at `version` (undefined: an instance without a version). */
export function servesVersion(names: RegisteredNames, name: string, version: string | undefined): boolean {
  const served = servedVersions(names, name);
  return served === 'any' || (served !== undefined && served.some((v) => sameVersion(v, version)));
}

/** The version a start of `name` without one gets from a registration: its `defaultVersion`, else the newest registered version. */
export function defaultVersionOf(names: RegisteredNames, name: string): string | undefined {
  if (names.defaultVersion !== undefined) return names.defaultVersion;
  return latestVersion((names.orchestrationVersions?.[name] ?? []).filter((v) => v !== ''));
}
