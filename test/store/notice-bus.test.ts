/**
 * The in-process notice bus both stores share: subscriptions per hub, and the list of hubs someone listens to
 * (a SQLite store watches its file while there is any; a PostgreSQL store wakes them after reconnecting).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoticeBus } from '../../src/store/shared.js';
import type { StoreNotice } from '../../src/store/store.js';

test('a notice reaches the subscriptions of its hub only, until each is ended', () => {
  const bus = new NoticeBus();
  const seen: string[] = [];
  const listener = (n: StoreNotice) => seen.push(n.kind);
  const first = bus.subscribe('a', listener);
  const second = bus.subscribe('a', listener); // the same function twice: two subscriptions
  const other = bus.subscribe('b', () => seen.push('b'));
  bus.emit('a', { kind: 'orchestrations' });
  assert.deepEqual(seen, ['orchestrations', 'orchestrations']);
  assert.deepEqual(bus.hubs().sort(), ['a', 'b']);

  first();
  first(); // ending twice ends nothing more
  seen.length = 0;
  bus.emit('a', { kind: 'activities' });
  assert.deepEqual(seen, ['activities'], 'the second subscription of the same function still listens');
  assert.deepEqual(bus.hubs().sort(), ['a', 'b']);

  second();
  other();
  assert.deepEqual(bus.hubs(), [], 'a hub without subscriptions is no longer listed');
  seen.length = 0;
  bus.emit('a', { kind: 'timers' });
  assert.deepEqual(seen, []);
  // A hub subscribed again after it emptied works as before.
  const again = bus.subscribe('a', listener);
  bus.emit('a', { kind: 'timers' });
  assert.deepEqual(seen, ['timers']);
  again();
});
