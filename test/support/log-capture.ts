/**
 * Reading what duraflow logs, in both formats of the CLI's pino logger: a capturing logger for in-process
 * tests, and parsers of stderr text (JSON lines, or the pretty `time LEVEL message key=value …` lines) into
 * one record shape, so a test asserts the same things whichever format it reads.
 */
import { createCliLogger, type LogFormat } from '../../src/app/pino-logger.js';
import type { Logger } from '../../src/sdk/logger.js';

/** Both log formats, for tests that run once per format. */
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];

/** One log record, whichever format it was read from. */
export interface LogRecord {
  level: string;
  msg: string;
  /** Every field but level, time and msg (pretty values are strings, lists comma-joined). */
  fields: Record<string, unknown>;
  /** The error's stack lines, when the record carries an error. */
  stack?: string;
}

/** Splits `key=value key2="quoted value" …` (values quoted as JSON) into fields. */
function parseFields(text: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  let rest = text.trim();
  while (rest.length) {
    const key = /^([\w.]+)=/.exec(rest);
    if (!key) throw new Error(`not a field list: ${rest}`);
    rest = rest.slice(key[0].length);
    let value: unknown;
    if (/^\[\](\s|$)/.test(rest)) {
      value = [];
      rest = rest.slice(2);
    } else if (rest.startsWith('"') || rest.startsWith('{') || rest.startsWith('[')) {
      // JSON: take the shortest prefix that parses and ends at a space.
      let end = 1;
      for (;;) {
        end = rest.indexOf(' ', end);
        const candidate = end === -1 ? rest : rest.slice(0, end);
        try {
          value = JSON.parse(candidate);
          rest = end === -1 ? '' : rest.slice(end + 1);
          break;
        } catch {
          if (end === -1) throw new Error(`bad JSON value in: ${text}`);
          end++;
        }
      }
    } else {
      const end = rest.indexOf(' ');
      value = end === -1 ? rest : rest.slice(0, end);
      rest = end === -1 ? '' : rest.slice(end + 1);
    }
    fields[key[1]!] = value;
    rest = rest.trimStart();
  }
  return fields;
}

/** Parses stderr text written in `format` into records (lines that are not log records are skipped). */
export function parseLogs(text: string, format: LogFormat): LogRecord[] {
  const records: LogRecord[] = [];
  if (format === 'json') {
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      const { level, time: _time, msg, err, ...fields } = JSON.parse(line) as Record<string, unknown>;
      const error = err as { type?: string; message?: string; stack?: string } | undefined;
      records.push({
        level: String(level),
        msg: String(msg),
        fields: { ...fields, ...(error ? { err: `${error.type}: ${error.message}` } : {}) },
        ...(error?.stack ? { stack: error.stack } : {}),
      });
    }
    return records;
  }
  for (const line of text.split('\n')) {
    const match = /^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO|WARN|ERROR|FATAL) +(.*)$/.exec(line);
    if (match) {
      const [message, fieldText] = splitOnce(match[2]!, '  ');
      records.push({ level: match[1]!.toLowerCase(), msg: message, fields: fieldText === undefined ? {} : parseFields(fieldText) });
    } else if (/^ {4}at /.test(line) && records.length) {
      const last = records[records.length - 1]!;
      last.stack = `${last.stack ?? ''}${line}\n`;
    }
  }
  return records;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** A pino logger of the CLI's kind, in `format`, whose output a test reads back. */
export function captureLogs(format: LogFormat, level: 'debug' | 'info' | 'warn' | 'error' = 'debug'): {
  logger: Logger;
  text(): string;
  records(): LogRecord[];
} {
  let text = '';
  const logger = createCliLogger({ format, level, stream: { write: (chunk: string) => (text += chunk) } });
  return { logger, text: () => text, records: () => parseLogs(text, format) };
}

/** The first record whose message matches and whose fields include `fields`, or undefined. */
export function findRecord(records: readonly LogRecord[], msg: RegExp, fields: Record<string, unknown> = {}): LogRecord | undefined {
  return records.find((r) => msg.test(r.msg) && Object.entries(fields).every(([k, v]) => String(r.fields[k]) === String(v)));
}

/** Waits until `find()` gives a record (log lines appear asynchronously); fails after `timeoutMs`. */
export async function waitForRecord(find: () => LogRecord | undefined, what: string, timeoutMs = 20_000, text?: () => string): Promise<LogRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = find();
    if (record) return record;
    if (Date.now() > deadline) throw new Error(`no log record ${what} within ${timeoutMs} ms${text ? `; logs:\n${text()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
