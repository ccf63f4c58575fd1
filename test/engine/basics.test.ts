import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DFApp } from '../../src/index.js';
import { runApp, type RunningApp } from '../support/harness.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

for (const store of engineStores()) {
  describe(`basics on ${store.label}`, () => {
    useOrchestratorStyle(store);
    let app: RunningApp;
    before(async () => {
      app = await runApp(store, (url) => {
        const a = new DFApp({ store: url });
        const sayHello = a.activity('sayHello', async (city: string) => `Hello ${city}!`);
        a.orchestration('hello', function* (ctx) {
          const first = yield ctx.callActivity('sayHello', 'Tokyo');
          const second: string = yield* ctx.callActivity(sayHello, 'Seattle');
          return [first, second];
        });
        return a;
      });
    });
    after(() => app.stop());

    test('a sequence of activities by name and by typed reference completes with their results', async () => {
      const id = await app.client.startNew('hello');
      const status = await app.client.waitForCompletion(id, { timeoutInMilliseconds: 10_000 });
      assert.equal(status.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, ['Hello Tokyo!', 'Hello Seattle!']);
      const withHistory = await app.client.getStatus(id, { showHistory: true });
      const scheduled = withHistory?.history?.filter((e) => e.eventType === 'TaskScheduled').map((e) => e.eventId);
      assert.deepEqual(scheduled, [0, 1]);
    });
  });
}
