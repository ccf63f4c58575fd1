/** What the CLI prints: aligned tables for people, JSON for scripts. */
import type { DurableOrchestrationStatus } from '../sdk/durable-client.js';
import { formatTime, prettyJson } from '../dashboard/format.js';

/** Writes one line to stdout. */
export function println(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Prints a value as indented JSON. */
export function printJson(value: unknown): void {
  println(JSON.stringify(value, null, 2));
}

/** Control characters would let user data move the cursor or recolour the terminal: show them escaped. */
export function safeText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Renders rows as an aligned table with a header; cells are cut to `maxWidth` characters. */
export function table(header: string[], rows: string[][], maxWidth = 60): string {
  const cut = (cell: string) => {
    const text = safeText(cell);
    return text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
  };
  const cells = [header, ...rows].map((row) => row.map(cut));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** A status as JSON: dates as ISO strings (what `--json` prints). */
export function statusToJson(status: DurableOrchestrationStatus): Record<string, unknown> {
  return {
    ...status,
    createdTime: status.createdTime.toISOString(),
    lastUpdatedTime: status.lastUpdatedTime.toISOString(),
  };
}

/** A titled, indented block of pretty JSON. */
export function block(title: string, value: unknown): string {
  if (value === undefined) return `${title}: (none)`;
  const text = prettyJson(value); // JSON escapes control characters inside strings
  return text.includes('\n') ? `${title}:\n${text.replace(/^/gm, '  ')}` : `${title}: ${text}`;
}

export { formatTime };
