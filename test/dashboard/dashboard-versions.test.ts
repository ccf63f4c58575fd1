/**
 * Versions in the dashboard: the Version column (sorted as versions compare), the version filter (also for purge
 * by filter), the version on the instance page, and patch markers in the timeline and the history table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DFApp, type Host } from '../../src/index.js';
import { buildTimeline } from '../../src/dashboard/timeline.js';
import { patchMarkerEvent } from '../../src/core/patch-markers.js';
import { makeEvent } from '../../src/sdk/history.js';
import { sqliteTestStore } from '../support/stores.js';

const rowIds = (page: string) => [...page.matchAll(/<tr data-instance-id="([^"]*)"/g)].map((m) => m[1]!);

describe('versions in the dashboard', () => {
  let host: Host;
  let cleanup: () => Promise<void>;
  before(async () => {
    const store = await sqliteTestStore.create();
    cleanup = store.cleanup;
    const app = new DFApp({ store: store.url, httpAuthLevel: 'anonymous', versioning: { defaultVersion: '2' } });
    app.orchestration('patched', function* (ctx) {
      if (ctx.isPatched('fraud-check')) yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1));
      return ctx.version ?? null;
    });
    host = await app.start({ port: 0 });
    for (const [id, version] of [['a', '10'], ['b', '9'], ['c', '2']] as const) {
      await host.client.startNew('patched', { instanceId: id, version });
      await host.client.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
    }
  });
  after(async () => {
    await host.stop();
    await cleanup();
  });
  const page = async (query: string) => (await fetch(`${host.url}/dashboard${query}`)).text();

  test('the list shows a Version column, sorts it as versions compare and filters by version', async () => {
    const list = await page('?sort=version&dir=asc');
    assert.match(list, /data-sort="version">Version/);
    assert.deepEqual(rowIds(list), ['c', 'b', 'a'], '2 < 9 < 10');
    assert.match(list, /<td class="version">10<\/td>/);
    assert.deepEqual(rowIds(await page('?version=9')), ['b']);
    assert.match(await page('?version=9'), /name="version" value="9"/);
    assert.match(list, /<datalist id="orchestration-versions"><option value="10"><\/option><option value="9"><\/option><option value="2"><\/option><\/datalist>/);
    assert.equal((await fetch(`${host.url}/dashboard?version=${'x'.repeat(200)}`)).status, 400);
  });

  test('purge by filter honours the version', async () => {
    const response = await fetch(`${host.url}/dashboard/api/purge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-duraflow-dashboard': '1' },
      body: JSON.stringify({ filter: { version: '2' } }),
    });
    assert.deepEqual(await response.json(), { instancesDeleted: 1 });
    assert.deepEqual(rowIds(await page('')).sort(), ['a', 'b']);
  });

  test('the instance page shows the version, and the patch marker in the timeline and the history', async () => {
    const instance = await page('/instances/a');
    assert.match(instance, /<dd id="instance-version">10<\/dd>/);
    assert.match(instance, /data-kind="marker"[^]*?patch &#39;fraud-check&#39;|data-kind="marker"[^]*?patch 'fraud-check'/);
    assert.match(instance, /data-event-type="GenericEvent"[^]*?<td>patch (&#39;|')fraud-check(&#39;|')<\/td>/);
  });

  test('the timeline draws a patch marker as a point, and ignores other generic events', () => {
    const t = new Date('2026-01-01T00:00:00Z');
    const timeline = buildTimeline(
      [
        makeEvent({ eventType: 'ExecutionStarted', name: 'o', instanceId: 'i', executionId: 'e' }, t),
        patchMarkerEvent({ patchId: 'p', deprecated: true }, t),
        makeEvent({ eventType: 'GenericEvent', data: 'something else' }, t),
      ],
      t.getTime(),
    );
    assert.deepEqual(
      timeline.spans.map((s) => [s.kind, s.label, s.outcome]),
      [
        ['orchestration', 'o', 'open'],
        ['marker', "patch 'p' (deprecated)", 'point'],
      ],
    );
  });
});
