/**
 * Names duraflow registers for itself (`BuiltIn::HttpActivity`, the activity behind `ctx.callHttp`). Workers
 * serve them like any function, but users never name them: they are left out wherever names are shown.
 */

/** The prefix of every function name duraflow registers for itself. */
export const INTERNAL_NAME_PREFIX = 'BuiltIn::';

/** True for a name duraflow registered for itself. */
export function isInternalName(name: string): boolean {
  return name.startsWith(INTERNAL_NAME_PREFIX);
}

/** `names` without duraflow's own. */
export function userFacingNames(names: Iterable<string>): string[] {
  return [...names].filter((name) => !isInternalName(name));
}
