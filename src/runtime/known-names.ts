/**
 * The names the task hub's workers serve: this worker's own plus those other workers registered in the
 * store (refreshed at most once a second), so a scheduled name that nobody serves fails fast.
 */
import type { Registry } from '../sdk/registry.js';
import { ANY_NAME, type HubStore } from '../store/store.js';
import type { RegisteredNames } from '../sdk/registry.js';
import { servedVersions } from '../sdk/registered-names.js';
import { sameVersion } from '../sdk/versioning.js';

/** Which names the task hub's workers serve, for refusing unknown activities and sub-orchestrations. */
export interface KnownNames {
  /** Entity names are lower-cased. */
  has(kind: 'activity' | 'orchestration' | 'entity', name: string): boolean;
  list(kind: 'activity' | 'orchestration' | 'entity'): readonly string[];
  /** The versions of orchestration `name` served (`'any'`, or the versions oldest first); undefined: not served. */
  versions?(name: string): 'any' | readonly string[] | undefined;
}

/** {@link KnownNames} backed by the local registry and the store's worker registrations. */
export class HubKnownNames implements KnownNames {
  #hub: RegisteredNames | undefined;
  #refreshedAt = 0;

  constructor(
    private readonly registry: Registry,
    private readonly store: HubStore,
  ) {}

  /** Re-reads the registrations when the last read is older than `maxAgeMs`. */
  async refresh(maxAgeMs = 1000): Promise<void> {
    if (Date.now() - this.#refreshedAt < maxAgeMs) return;
    this.#refreshedAt = Date.now();
    this.#hub = await this.store.getRegisteredNames();
  }

  has(kind: 'activity' | 'orchestration' | 'entity', name: string): boolean {
    if (kind === 'orchestration' ? this.registry.hasOrchestration(name) : this.#local(kind).has(name)) return true;
    const remote = this.#remote(kind);
    return remote !== undefined && (remote.includes(name) || remote.includes(ANY_NAME));
  }

  list(kind: 'activity' | 'orchestration' | 'entity'): readonly string[] {
    const local = kind === 'orchestration' ? this.registry.orchestrationNames() : [...this.#local(kind).keys()];
    return [...new Set([...local, ...(this.#remote(kind) ?? [])])].filter((n) => n !== ANY_NAME).sort();
  }

  versions(name: string): 'any' | readonly string[] | undefined {
    const local = this.registry.hasOrchestration(name) ? (this.registry.orchestrations.has(name) ? 'any' : this.registry.orchestrationVersions(name)) : undefined;
    const remote = this.#hub ? servedVersions(this.#hub, name) : undefined;
    if (local === 'any' || remote === 'any') return 'any';
    if (!local && !remote) return undefined;
    const all = [...(local ?? []), ...(remote ?? [])];
    return all.filter((v, i) => all.findIndex((w) => sameVersion(v, w)) === i);
  }

  #local(kind: 'activity' | 'entity'): Map<string, unknown> {
    return kind === 'activity' ? this.registry.activities : this.registry.entities;
  }

  #remote(kind: 'activity' | 'orchestration' | 'entity'): string[] | undefined {
    return kind === 'activity' ? this.#hub?.activities : kind === 'orchestration' ? this.#hub?.orchestrations : this.#hub?.entities;
  }
}
