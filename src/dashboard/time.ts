/**
 * Times on dashboard pages: one zone throughout, UTC, each in a `<time datetime>` element whose hover shows the
 * browser's local time (filled in by `assets/local-time.js`; without scripts the hover repeats the UTC time).
 */
import { formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';

/**
 * `<time datetime="…Z" title="…">2025-01-02 03:04:05 UTC</time>`; `unit: false` leaves " UTC" out where a
 * column header already says it. Empty for no time; an unparsable one is shown as given.
 */
export function utcTime(date: Date | string | number | undefined, options: { unit?: boolean } = {}): SafeHtml | string {
  if (date === undefined) return '';
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return String(date);
  const text = `${formatTime(d)}${options.unit === false ? '' : ' UTC'}`;
  return html`<time datetime="${d.toISOString()}" title="${formatTime(d)} UTC">${text}</time>`;
}
