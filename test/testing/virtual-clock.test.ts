/**
 * The test host's clock on its own: it stands still while the host is idle, runs with real time while the host
 * works, counts a spell of work only once work actually started in it (a poll that finds nothing moves no time),
 * and never goes back.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('the clock stands still while idle, runs with real time while work runs, and skips only forward', async () => {
  const clock = new VirtualClock(1000);
  let running = false;
  let progress = 0;
  clock.runWhile(() => running, () => progress);
  await sleep(20);
  assert.equal(clock.now(), 1000, 'idle: still');

  running = true; // a poll: busy, but no work starts
  assert.equal(clock.now(), 1000);
  await sleep(20);
  assert.equal(clock.now(), 1000, 'an empty poll takes no time');
  running = false;
  clock.sync();

  running = true;
  clock.sync();
  const began = performance.now();
  progress++; // work starts
  await sleep(30);
  const worked = performance.now() - began;
  const during = clock.now();
  assert.ok(during >= 1000 + Math.floor(worked) - 1 && during < 1000 + worked + 1000, `ran with real time: ${during - 1000} ms for ${worked} ms`);
  running = false;
  clock.sync();
  const frozen = clock.now();
  assert.ok(frozen >= during);
  await sleep(20);
  assert.equal(clock.now(), frozen, 'idle again: still');

  clock.moveTo(frozen + 86_400_000);
  assert.equal(clock.now(), frozen + 86_400_000);
  clock.moveTo(5); // never back
  assert.equal(clock.now(), frozen + 86_400_000);
});
