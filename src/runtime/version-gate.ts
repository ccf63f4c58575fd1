/**
 * A worker's versioning: which instance versions it claims and runs, what it does with the others, and the
 * version a sub-orchestration gets when its call names none.
 *
 * A worker's versions of an orchestration name are the versions it registers for the name plus the app's
 * `defaultVersion`. It can run an instance when it has a registration of the instance's version or one without
 * a version; instances it cannot run stay for a worker that can (like names it does not serve). Of those, the
 * match strategy picks: `None` all, `Strict` exactly its versions, `CurrentOrOlder` up to the newest of them.
 * With `failureStrategy: 'Reject'` the others are never claimed (the claim filters them in the store, so a
 * rejecting worker never spins on them); with `'Fail'` they are claimed and failed with a `VersionMismatchError` (see `failing-executor.ts`).
 */
import { VersionMismatchError } from '../sdk/errors.js';
import type { Registry } from '../sdk/registry.js';
import { describeVersion, latestVersion, strategyAccepts, type VersioningOptions } from '../sdk/versioning.js';
import type { ClaimVersionRule } from '../store/store.js';
import type { KnownNames } from './known-names.js';

/** What a worker does with an instance: run it, leave it to another worker, or fail it. */
export type VersionDecision = { run: true } | { run: false; reject: true } | { run: false; reject: false; error: VersionMismatchError };

/** The versioning of one worker over its registry. */
export class VersionGate {
  constructor(
    private readonly registry: Registry,
    readonly options: VersioningOptions = {},
  ) {}

  /** The worker's versions of `name`: those registered side by side, and the default version. */
  workerVersions(name: string): string[] {
    const versions = this.registry.orchestrationVersions(name);
    const fallback = this.options.defaultVersion;
    return fallback !== undefined && !versions.includes(fallback) ? [...versions, fallback] : versions;
  }

  /** Whether this worker runs an instance of `name` at `version`, and if not, what it does with it. */
  decide(name: string, version: string | undefined): VersionDecision {
    if (!this.registry.resolveOrchestration(name, version)) return { run: false, reject: true };
    const strategy = this.options.matchStrategy ?? 'None';
    const versions = this.workerVersions(name);
    if (strategyAccepts(strategy, version, versions)) return { run: true };
    if ((this.options.failureStrategy ?? 'Reject') === 'Reject') return { run: false, reject: true };
    const accepted = strategy === 'Strict' ? `only ${versions.length ? versions.map((v) => `'${v}'`).join(', ') : 'instances without a version'}` : `versions up to ${describeVersion(latestVersion(versions))}`;
    return {
      run: false,
      reject: false,
      error: new VersionMismatchError(
        `The version ${describeVersion(version)} of orchestration '${name}' does not match this worker's version ${describeVersion(latestVersion(versions))}: ` +
          `its versioning (matchStrategy '${strategy}', failureStrategy 'Fail') runs ${accepted}.`,
      ),
    };
  }

  /**
   * The claim rules that keep instances this worker would not run out of its claims: the versions it has a
   * registration for and, with `Reject`, those its strategy accepts. Names without a rule are claimed at any version.
   */
  claimRules(): Record<string, ClaimVersionRule> | undefined {
    const strategy = this.options.matchStrategy ?? 'None';
    const filterStrategy = strategy !== 'None' && (this.options.failureStrategy ?? 'Reject') === 'Reject';
    const rules: Record<string, ClaimVersionRule> = {};
    for (const name of this.registry.orchestrationNames()) {
      const rule: { oneOf?: string[]; atMost?: string } = {};
      // Without an unversioned registration only the registered versions can run here.
      if (!this.registry.orchestrations.has(name)) rule.oneOf = this.registry.orchestrationVersions(name);
      if (filterStrategy) {
        const versions = this.workerVersions(name);
        if (strategy === 'Strict') rule.oneOf ??= versions.length ? versions : [''];
        else rule.atMost = latestVersion(versions) ?? '';
      }
      if (rule.oneOf || rule.atMost !== undefined) rules[name] = rule;
    }
    return Object.keys(rules).length ? rules : undefined;
  }

  /**
   * The version of a sub-orchestration whose call names none: the default version, else the newest version
   * registered for the name here or by the hub's other workers, else none.
   */
  childVersion(name: string, known?: KnownNames): string | undefined {
    if (this.options.defaultVersion !== undefined) return this.options.defaultVersion;
    const served = known?.versions?.(name);
    const local = this.registry.orchestrationVersions(name);
    return latestVersion([...local, ...(served && served !== 'any' ? served : [])].filter((v) => v !== ''));
  }
}
