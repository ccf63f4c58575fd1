/**
 * The version a start gets, and the check that some worker of the hub can run it. Every way in (client
 * `startNew` and `restart`, the HTTP API, the CLI, the gRPC sidecar's `StartInstance`) starts through these.
 *
 * Rule: an explicit version wins (`''` starts an instance without a version); a versioned reference's version
 * comes next; then the app's `versioning.defaultVersion`, else the newest version the app registers for the name
 * side by side — when the client belongs to an app that serves the name. Other clients (`createClient({ store })`)
 * ask the hub's worker registrations: the newest `defaultVersion` a worker registered, else the newest version
 * registered for the name.
 */
import { UnknownFunctionError } from './errors.js';
import type { RegisteredNames, Registry } from './registry.js';
import { defaultVersionOf, servedVersions, servesVersion } from './registered-names.js';
import { checkVersion, latestVersion } from './versioning.js';

/** What a start's version is decided from. */
export interface StartVersionSources {
  /** The app's own functions (its client's), if any. */
  registry?: Registry | undefined;
  /** The app's `versioning.defaultVersion`. */
  defaultVersion?: string | undefined;
  /** The hub's worker registrations (read at most once per start). */
  served: () => Promise<RegisteredNames | undefined>;
}

/**
 * The version of a start of `name` (undefined: none), checked: a malformed version is a `ValidationError`,
 * and a version no worker of the hub can run (once any worker registered) an `UnknownFunctionError`.
 */
export async function startVersion(name: string, explicit: unknown, sources: StartVersionSources): Promise<string | undefined> {
  let served: Promise<RegisteredNames | undefined> | undefined;
  const hub = () => (served ??= sources.served());
  const version = explicit === '' ? undefined : explicit !== undefined ? checkVersion(explicit, 'version') : await defaultFor(name, sources, hub);
  if (version !== undefined && !sources.registry?.resolveOrchestration(name, version)) {
    const names = await hub();
    const versions = names && servedVersions(names, name);
    if (names && versions !== undefined && !servesVersion(names, name, version)) {
      const registered = [...new Set([...(versions === 'any' ? [] : versions), ...(sources.registry?.orchestrationVersions(name) ?? [])])];
      throw new UnknownFunctionError('orchestration', name, names.orchestrations, { version, registeredVersions: registered });
    }
  }
  return version;
}

/** The version a start of `name` that names none gets (see the rule above). */
export function defaultStartVersion(name: string, sources: StartVersionSources): Promise<string | undefined> {
  return defaultFor(name, sources, sources.served);
}

async function defaultFor(name: string, sources: StartVersionSources, hub: () => Promise<RegisteredNames | undefined>): Promise<string | undefined> {
  if (sources.registry?.hasOrchestration(name)) return sources.defaultVersion ?? latestVersion(sources.registry.orchestrationVersions(name));
  if (sources.defaultVersion !== undefined) return sources.defaultVersion;
  const names = await hub();
  return names ? defaultVersionOf(names, name) : undefined;
}
