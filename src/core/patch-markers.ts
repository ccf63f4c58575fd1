/**
 * Patch markers (`ctx.isPatched` / `ctx.deprecatePatch`): what an execution records in its history when it first
 * runs the code of a patch. A marker is a DTFx `GenericEvent` whose `data` is `{"patch":"<id>"}` (plus
 * `"deprecated":true` when written by `deprecatePatch`), so every store, the HTTP API and other DTFx tools carry
 * it as an ordinary event. It has no sequence id: it does not shift the ids of the tasks scheduled after it.
 */
import { ValidationError } from '../sdk/errors.js';
import { makeEvent, type GenericEvent, type HistoryEvent } from '../sdk/history.js';

/** A patch marker read from history. */
export interface PatchMarker {
  patchId: string;
  /** Written by `deprecatePatch`: code without any call for the patch may replay it. */
  deprecated: boolean;
}

/** Longest patch id. */
export const MAX_PATCH_ID_LENGTH = 256;

/** Checks a patch id: a non-empty string of at most 256 characters without control characters. */
export function checkPatchId(patchId: unknown): string {
  if (typeof patchId !== 'string' || patchId.length === 0) throw new ValidationError('A patch id must be a non-empty string.');
  if (patchId.length > MAX_PATCH_ID_LENGTH) throw new ValidationError(`A patch id may be at most ${MAX_PATCH_ID_LENGTH} characters (got ${patchId.length}).`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(patchId)) throw new ValidationError(`A patch id may not contain control characters: ${JSON.stringify(patchId)}.`);
  return patchId;
}

/** The `data` of a marker. */
export function patchMarkerData(marker: PatchMarker): string {
  return JSON.stringify(marker.deprecated ? { patch: marker.patchId, deprecated: true } : { patch: marker.patchId });
}

/** The history event of a marker. */
export function patchMarkerEvent(marker: PatchMarker, timestamp: Date): GenericEvent {
  return makeEvent({ eventType: 'GenericEvent', data: patchMarkerData(marker) }, timestamp);
}

/** The marker `event` is, or undefined for any other event (including other `GenericEvent`s). */
export function readPatchMarker(event: HistoryEvent): PatchMarker | undefined {
  if (event.eventType !== 'GenericEvent' || event.data === undefined || !event.data.startsWith('{"patch":')) return undefined;
  try {
    const body = JSON.parse(event.data) as { patch?: unknown; deprecated?: unknown };
    return typeof body.patch === 'string' ? { patchId: body.patch, deprecated: body.deprecated === true } : undefined;
  } catch {
    return undefined;
  }
}

/** How a marker reads in a timeline or a history table: `patch 'fraud-check'` (`deprecated`). */
export function describePatchMarker(marker: PatchMarker): string {
  return `patch '${marker.patchId}'${marker.deprecated ? ' (deprecated)' : ''}`;
}
