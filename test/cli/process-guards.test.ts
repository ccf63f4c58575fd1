/**
 * The process guards alone, on an emitter standing in for `process`: events go to the logger the getter gives
 * at that moment, to the fallback without one or when the logger throws, and removing the guards detaches them.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { installProcessGuards, type GuardedProcess } from '../../src/app/process-guards.js';
import type { Logger } from '../../src/index.js';

test('guards log rejections and exceptions through the current logger, else the fallback, and can be removed', () => {
  const target = new EventEmitter();
  const logged: string[] = [];
  const fallback: string[] = [];
  let logger: Logger | undefined;
  const remove = installProcessGuards({ logger: () => logger, fallback: (line) => void fallback.push(line), process: target as GuardedProcess });

  target.emit('unhandledRejection', new Error('first'));
  assert.equal(fallback.length, 1);
  assert.match(fallback[0]!, /^duraflow: an unhandled promise rejection .*keeps running: Error: first$/);

  logger = { debug() {}, info() {}, warn() {}, error: (message, error) => void logged.push(`${message} | ${(error as Error).message}`) };
  target.emit('uncaughtException', new Error('second'));
  assert.match(logged[0]!, /^an uncaught exception .* \| second$/);

  logger = { ...logger, error: () => { throw new Error('logger broke'); } };
  target.emit('unhandledRejection', null);
  assert.match(fallback[1]!, /null \(and the logger failed: Error: logger broke\)$/);

  remove();
  assert.equal(target.listenerCount('unhandledRejection'), 0);
  assert.equal(target.listenerCount('uncaughtException'), 0);
});
