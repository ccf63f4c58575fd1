/**
 * What the test tools read of an app besides its functions. A `DFApp` carries options and a task hub; a plain
 * `Blueprint` has neither. Read structurally, so `duraflow/testing` does not import the composition root.
 */
import type { Blueprint } from '../sdk/blueprint.js';
import type { Logger } from '../sdk/logger.js';
import type { TokenProvider } from '../runtime/http-activity.js';
import type { VersioningOptions } from '../sdk/versioning.js';

/** The options of an app that matter under test. */
export interface TestedAppOptions {
  readonly logger?: Logger;
  readonly maxPayloadBytes?: number;
  readonly tokenProvider?: TokenProvider;
  readonly versioning?: VersioningOptions;
  /** The store URL a `DFApp` names. */
  readonly store?: string;
}

/** The app's options (none for a blueprint) and task hub (`default` for a blueprint). */
export function appSettings(app: Blueprint): { options: TestedAppOptions; taskHub: string } {
  const candidate = app as Blueprint & { options?: TestedAppOptions; taskHub?: unknown };
  return {
    options: typeof candidate.options === 'object' && candidate.options !== null ? candidate.options : {},
    taskHub: typeof candidate.taskHub === 'string' ? candidate.taskHub : 'default',
  };
}
