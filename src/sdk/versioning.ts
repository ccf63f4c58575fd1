/**
 * Orchestration versioning (Durable Functions' model): the app's `versioning` options, the rules of a version
 * string, Durable Functions' comparison of versions, and whether a worker's strategy accepts an instance.
 */
import { ValidationError } from './errors.js';

/** Which instance versions a worker runs: any (`None`), only its own (`Strict`), or its own and older (`CurrentOrOlder`). */
export type VersionMatchStrategy = 'None' | 'Strict' | 'CurrentOrOlder';
/** What a worker does with an instance its strategy does not accept: leave it to another worker, or fail it. */
export type VersionFailureStrategy = 'Reject' | 'Fail';

/** `new DFApp({ versioning })`. */
export interface VersioningOptions {
  /** Stamped on new instances and sub-orchestrations that do not name a version (`ctx.version`). */
  defaultVersion?: string;
  /** Default `None`: every instance runs, whatever its version. */
  matchStrategy?: VersionMatchStrategy;
  /** Default `Reject`. */
  failureStrategy?: VersionFailureStrategy;
}

const MATCH_STRATEGIES: readonly VersionMatchStrategy[] = ['None', 'Strict', 'CurrentOrOlder'];
const FAILURE_STRATEGIES: readonly VersionFailureStrategy[] = ['Reject', 'Fail'];

/** Longest version string. */
export const MAX_VERSION_LENGTH = 128;

/**
 * Checks a version string: 1–128 characters, no control characters, no leading or trailing white space, no
 * lone surrogates (a version is stored as text and shown in URLs, tables and logs).
 */
export function checkVersion(value: unknown, what = 'A version'): string {
  if (typeof value !== 'string') throw new ValidationError(`${what} must be a string, got ${value === null ? 'null' : typeof value}.`);
  if (value.length === 0) throw new ValidationError(`${what} may not be empty.`);
  if (value.length > MAX_VERSION_LENGTH) throw new ValidationError(`${what} may be at most ${MAX_VERSION_LENGTH} characters (got ${value.length}).`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value) || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) {
    throw new ValidationError(`${what} may not contain control characters: ${JSON.stringify(value)}.`);
  }
  if (value.trim() !== value) throw new ValidationError(`${what} may not start or end with white space: ${JSON.stringify(value)}.`);
  return value;
}

/** Checks `new DFApp({ versioning })`; unknown keys, strategies and bad versions are `ValidationError`s. */
export function checkVersioningOptions(value: unknown): VersioningOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('versioning must be an object.');
  const options = value as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!['defaultVersion', 'matchStrategy', 'failureStrategy'].includes(key)) {
      throw new ValidationError(`Unknown versioning option '${key}': expected defaultVersion, matchStrategy or failureStrategy.`);
    }
  }
  const { defaultVersion, matchStrategy, failureStrategy } = options;
  if (defaultVersion !== undefined) checkVersion(defaultVersion, 'versioning.defaultVersion');
  if (matchStrategy !== undefined && !MATCH_STRATEGIES.includes(matchStrategy as VersionMatchStrategy)) {
    throw new ValidationError(`Unknown versioning.matchStrategy ${JSON.stringify(matchStrategy)}: expected ${MATCH_STRATEGIES.map((s) => `'${s}'`).join(', ')}.`);
  }
  if (failureStrategy !== undefined && !FAILURE_STRATEGIES.includes(failureStrategy as VersionFailureStrategy)) {
    throw new ValidationError(`Unknown versioning.failureStrategy ${JSON.stringify(failureStrategy)}: expected ${FAILURE_STRATEGIES.map((s) => `'${s}'`).join(', ')}.`);
  }
  return options as VersioningOptions;
}

const NUMERIC_VERSION = /^\d+(\.\d+){0,3}$/;

/**
 * Durable Functions' version comparison (negative: `a` is older, 0: the same, positive: `a` is newer):
 * - absent and empty versions are equal, and older than any other version;
 * - two numeric dotted versions (1–4 parts of digits, e.g. `2`, `1.10`, `1.2.3.4`) compare part by part as
 *   numbers, a missing part before any present one (`1.0` < `1.0.0`, as .NET's `System.Version`);
 * - anything else compares as text, ignoring the case of ASCII letters, by Unicode code point.
 * The PostgreSQL store's `duraflow_version_compare` is the same function in SQL; keep them in step.
 */
export function compareVersions(a: string | undefined | null, b: string | undefined | null): number {
  const x = a ?? '';
  const y = b ?? '';
  if (x === '' || y === '') return x === y ? 0 : x === '' ? -1 : 1;
  if (NUMERIC_VERSION.test(x) && NUMERIC_VERSION.test(y)) {
    const xs = x.split('.');
    const ys = y.split('.');
    for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
      if (i >= xs.length) return -1;
      if (i >= ys.length) return 1;
      const order = compareDigits(xs[i]!, ys[i]!);
      if (order !== 0) return order;
    }
    return 0;
  }
  return compareCodePoints(asciiUpper(x), asciiUpper(y));
}

/** True when `a` and `b` are the same version by {@link compareVersions} (`V1` is `v1`, `1.01` is `1.1`). */
export function sameVersion(a: string | undefined | null, b: string | undefined | null): boolean {
  return compareVersions(a, b) === 0;
}

/** The newest of `versions` (undefined for none). */
export function latestVersion(versions: Iterable<string>): string | undefined {
  let latest: string | undefined;
  for (const v of versions) if (latest === undefined || compareVersions(v, latest) > 0) latest = v;
  return latest;
}

/** Digit strings of any length as numbers: fewer significant digits is smaller, then digit by digit. */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function asciiUpper(text: string): string {
  return text.replace(/[a-z]/g, (c) => c.toUpperCase());
}

function compareCodePoints(a: string, b: string): number {
  const xs = [...a];
  const ys = [...b];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const d = xs[i]!.codePointAt(0)! - ys[i]!.codePointAt(0)!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return xs.length === ys.length ? 0 : xs.length < ys.length ? -1 : 1;
}

/**
 * Whether a worker whose versions of a name are `workerVersions` (the versions it registers for the name,
 * plus `defaultVersion`) accepts an instance of `version` under `strategy`: `Strict` takes exactly those
 * versions (an instance without a version when there are none), `CurrentOrOlder` anything up to the newest of them.
 */
export function strategyAccepts(strategy: VersionMatchStrategy, version: string | undefined, workerVersions: readonly string[]): boolean {
  if (strategy === 'None') return true;
  if (strategy === 'Strict') return workerVersions.length === 0 ? (version ?? '') === '' : workerVersions.some((w) => sameVersion(w, version));
  return compareVersions(version, latestVersion(workerVersions)) <= 0;
}

/** How a version shows in messages: quoted, or `(none)`. */
export function describeVersion(version: string | undefined): string {
  return version === undefined || version === '' ? '(none)' : `'${version}'`;
}
