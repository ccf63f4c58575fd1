/**
 * The `--log-format pretty` rendering of pino's JSON records: one line per event for people,
 * `time LEVEL message key=value …`, with an error's stack indented on the lines below.
 */

/** pino's numeric levels and the names the pretty format shows. */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<string, string> = { DEBUG: '\x1b[90m', INFO: '\x1b[36m', WARN: '\x1b[33m', ERROR: '\x1b[31m', FATAL: '\x1b[41m' };
/** Fields of every pino record that the line shows in its own way, or not at all. */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err']);

interface SerializedError {
  type?: string;
  message?: string;
  stack?: string;
}

/** Control characters in user data must not move the cursor or recolour the terminal. */
function safe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A field value: bare when it is a plain word, quoted JSON otherwise; lists of words comma-joined. */
function renderValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:/@+\-*?=#,]+$/.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' && /^[\w.:/@+\-*]+$/.test(v))) return value.length ? value.join(',') : '[]';
  if (value === undefined) return 'undefined';
  return JSON.stringify(value);
}

/** Renders one pino record (already parsed) as the pretty line(s), ending with a newline. */
export function prettyLine(record: Record<string, unknown>, color = false): string {
  const raw = record['level'];
  const level = typeof raw === 'number' ? (LEVELS[raw] ?? String(raw)) : String(raw).toUpperCase();
  const time = typeof record['time'] === 'number' || typeof record['time'] === 'string' ? new Date(record['time']).toISOString() : '';
  const label = color ? `${COLORS[level] ?? ''}${level.padEnd(5)}\x1b[0m` : level.padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !OWN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${renderValue(value)}`);
  const err = record['err'] as SerializedError | undefined;
  if (err) fields.push(`err=${renderValue(`${err.type ?? 'Error'}: ${err.message ?? ''}`)}`);
  let line = `${time} ${label} ${safe(String(record['msg'] ?? ''))}${fields.length ? `  ${safe(fields.join(' '))}` : ''}`;
  // The stack's first line repeats type and message, which the err field shows already.
  const stack = err?.stack?.split('\n').slice(1).map((l) => `    ${safe(l.trim())}`);
  if (stack?.length) line += `\n${stack.join('\n')}`;
  return `${line}\n`;
}
