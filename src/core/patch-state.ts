/**
 * The patches of one execution (`ctx.isPatched` / `ctx.deprecatePatch`): which markers its recorded history holds,
 * the answers given so far, and the markers to record with the current episode. Markers are read from the whole
 * recorded history before replay, because the code reaches a patch before its marker is read back: a marker follows
 * the events of its episode, and the code runs up to its next yield on each event.
 */
import type { RecordPatchAction } from './actions.js';
import type { HistoryEvent } from '../sdk/history.js';
import { NonDeterministicOrchestrationError } from '../sdk/errors.js';
import { checkPatchId, readPatchMarker, type PatchMarker } from './patch-markers.js';

/** Patch bookkeeping of one execution. */
export class PatchState {
  /** Patch markers in the recorded history. */
  readonly #recorded = new Map<string, PatchMarker>();
  /** Answers of `isPatched` (the first answer of an execution holds), and the ids `deprecatePatch` was called with. */
  readonly #answers = new Map<string, boolean>();
  /** Markers to record with the current episode's actions. */
  #new: PatchMarker[] = [];

  /** Reads the markers of a recorded history (a fresh executor's past events). */
  noteRecorded(pastEvents: readonly HistoryEvent[]): void {
    for (const event of pastEvents) {
      const marker = readPatchMarker(event);
      if (marker) this.#recorded.set(marker.patchId, marker);
    }
  }

  /** Live: true, recording a marker. Replaying: whether the history recorded the patch. */
  isPatched(patchId: string, replaying: boolean): boolean {
    checkPatchId(patchId);
    const known = this.#answers.get(patchId);
    if (known !== undefined) return known;
    const answer = replaying ? this.#recorded.has(patchId) : true;
    if (answer && !this.#recorded.has(patchId)) this.#new.push({ patchId, deprecated: false });
    this.#answers.set(patchId, answer);
    return answer;
  }

  /** Accepts the patch's marker on replay (or its absence), and records a deprecated one live. */
  deprecatePatch(patchId: string, replaying: boolean): void {
    checkPatchId(patchId);
    if (this.#answers.has(patchId)) return;
    if (!replaying && !this.#recorded.has(patchId)) this.#new.push({ patchId, deprecated: true });
    this.#answers.set(patchId, true);
  }

  /** The markers to record with this episode (once). */
  takeNewMarkers(): RecordPatchAction[] {
    const markers = this.#new.map((m): RecordPatchAction => ({ type: 'RecordPatch', id: -1, patchId: m.patchId, deprecated: m.deprecated }));
    this.#new = [];
    return markers;
  }

  /**
   * A recorded event replayed: a patch marker requires that the code asked for the patch by now, unless the
   * marker was written by `deprecatePatch`. `where` starts the error message.
   */
  check(event: HistoryEvent, where: string): void {
    const marker = readPatchMarker(event);
    if (!marker || marker.deprecated || this.#answers.has(marker.patchId)) return;
    throw new NonDeterministicOrchestrationError(
      `${where}: history recorded ctx.isPatched('${marker.patchId}') returning true here, but the orchestrator code no longer calls ctx.isPatched('${marker.patchId}'). ` +
        `Keep the call while instances that recorded the patch run, or call ctx.deprecatePatch('${marker.patchId}') instead.`,
      { recorded: `isPatched('${marker.patchId}')`, current: 'nothing' },
    );
  }
}
