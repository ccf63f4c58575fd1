/**
 * Validation of option values at parse time, before a command touches a store or a port: each parser is a
 * commander argument parser that throws a `ValidationError` naming the option, what it takes and what it got,
 * which the CLI prints as one line (`duraflow: --port takes a port number (0-65535), got 'abc'.`).
 */
import { ValidationError } from '../sdk/errors.js';
import type { RuntimeStatus } from '../sdk/history.js';
import { parseTimeArg } from './connection.js';
import { parseTagPair, tagsFromPairs, type InstanceTags } from '../sdk/tags.js';

/** The runtime statuses `--status` accepts (any case). */
export const STATUSES: readonly RuntimeStatus[] = ['Running', 'Pending', 'Suspended', 'Completed', 'Failed', 'Terminated', 'Canceled', 'ContinuedAsNew'];

/** A port number 0–65535 (0: any free port). */
export function parsePort(text: string, option: string): number {
  const port = /^\s*\d{1,5}\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) throw new ValidationError(`${option} takes a port number (0-65535; 0 picks a free one), got '${text}'.`);
  return port;
}

/** Commander's parser for `option <port>`. */
export function portOption(option: string): (text: string) => number {
  return (text) => parsePort(text, option);
}

/** A whole number 0…max, as the text it was given (the command reads it again). */
export function countOption(option: string, max = Number.MAX_SAFE_INTEGER): (text: string) => string {
  return (text) => {
    const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    const range = max === Number.MAX_SAFE_INTEGER ? '0 or more' : `from 0 to ${max}`;
    if (!Number.isSafeInteger(n) || n > max) throw new ValidationError(`${option} takes a whole number (${range}), got '${text}'.`);
    return text;
  };
}

/** One of `choices` (compared without regard to case), returned as the choice is spelled. */
export function choiceOption<T extends string>(option: string, choices: readonly T[]): (text: string) => T {
  return (text) => {
    const found = choices.find((c) => c.toLowerCase() === text.trim().toLowerCase());
    if (found === undefined) throw new ValidationError(`${option} takes one of ${choices.join(', ')}; got '${text}'.`);
    return found;
  };
}

/** The status of `--status` as spelled in {@link STATUSES}, or a `ValidationError` listing them. */
export function parseStatus(text: string): RuntimeStatus {
  const status = STATUSES.find((known) => known.toLowerCase() === text.toLowerCase());
  if (!status) throw new ValidationError(`Unknown status '${text}'. Known statuses: ${STATUSES.join(', ')}.`);
  return status;
}

/** Collector of `--status A,B --status C`: each one checked. */
export function collectStatuses(value: string, previous: string[] = []): string[] {
  const statuses = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  if (statuses.length === 0) throw new ValidationError(`--status takes one or more of ${STATUSES.join(', ')}; got '${value}'.`);
  return [...previous, ...statuses.map(parseStatus)];
}

/** A time (ISO-8601 or an age like `15m`), checked now and returned as given (the command reads it when it runs). */
export function timeOption(option: string): (text: string) => string {
  return (text) => {
    parseTimeArg(text, option);
    return text;
  };
}

/** Collector of `--tag key=value` (repeatable): each pair checked for its `=` now, the whole set by {@link tagsOf}. */
export function collectTags(value: string, previous: string[] = []): string[] {
  try {
    parseTagPair(value);
  } catch {
    throw new ValidationError(`--tag takes key=value (the key ends at the first '='), got '${value}'.`);
  }
  return [...previous, value];
}

/** The tags of repeated `--tag` options (later pairs win), checked as every start's are; undefined for none. */
export function tagsOf(pairs: readonly string[] | undefined): InstanceTags | undefined {
  return pairs?.length ? tagsFromPairs(pairs, '--tag') : undefined;
}

/** Tags as the CLI shows them: `key=value` pairs, comma-separated (empty for none). */
export function formatTags(tags: InstanceTags | undefined): string {
  return Object.entries(tags ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}
