/**
 * The one way the dashboard builds HTML: the `html` tagged template escapes every interpolated value unless
 * it is itself {@link SafeHtml} (the result of another `html` template). User data can therefore never
 * become markup, whatever page it lands on.
 */

/** Markup that is already safe to emit (built by {@link html} or from a trusted constant). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * Tagged template: `html\`<td>${name}</td>\`` escapes `name`; nested `html` results and arrays of them are
 * inserted as markup; `undefined`, `null` and `false` render as nothing. Always quote attribute values.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Marks a constant written in this codebase (never user data) as markup, e.g. an inline import map. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** JSON for a `data-props` attribute: the `html` template escapes it, the browser un-escapes it. */
export function props(value: unknown): string {
  return JSON.stringify(value);
}
