/**
 * The history export format: JSON Lines, one instance per line, each a self-contained record of what the
 * instance was and did (its status, input, output and full history with results), so a production instance
 * can become a regression test (`replayHistory`, `replay-check --file`) or be inspected anywhere.
 */
import { ValidationError } from './errors.js';
import type { FailureDetails, HistoryEvent, RuntimeStatus } from './history.js';

/** The `format` of an export line (a later shape gets a new number). */
export const EXPORT_FORMAT = 'duraflow.instance.v1';

/** One exported instance (one line of an export file). */
export interface ExportedInstance {
  format: typeof EXPORT_FORMAT;
  instanceId: string;
  name: string;
  version?: string;
  runtimeStatus: RuntimeStatus;
  /** ISO-8601 UTC. */
  createdTime: string;
  lastUpdatedTime: string;
  /** Values as the client returns them (decoded JSON). */
  input?: unknown;
  output?: unknown;
  customStatus?: unknown;
  failureDetails?: FailureDetails;
  /** The current execution's events, with inputs and results (JSON text, as stored). */
  history: HistoryEvent[];
}

/**
 * Reads an export: JSON Lines of {@link ExportedInstance} (blank lines skipped). A line that is not an exported
 * instance is a `ValidationError` naming its line number.
 */
export function parseExport(text: string): ExportedInstance[] {
  const out: ExportedInstance[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ValidationError(`Export line ${i + 1} is not JSON: ${(error as Error).message}`);
    }
    const record = value as Partial<ExportedInstance> | null;
    if (typeof record !== 'object' || record === null || record.format !== EXPORT_FORMAT || typeof record.instanceId !== 'string' || !Array.isArray(record.history)) {
      throw new ValidationError(`Export line ${i + 1} is not an exported instance (format '${EXPORT_FORMAT}' with instanceId and history).`);
    }
    out.push(record as ExportedInstance);
  });
  return out;
}

/** True when `text` looks like an export (its first non-blank line is an exported instance). */
export function isExport(text: string): boolean {
  const first = text.split('\n').find((l) => l.trim());
  if (!first) return false;
  try {
    return (JSON.parse(first) as { format?: unknown }).format === EXPORT_FORMAT;
  } catch {
    return false;
  }
}
