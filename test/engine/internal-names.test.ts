/**
 * duraflow's own functions (`BuiltIn::HttpActivity`, behind `ctx.callHttp`) are served by every worker but never
 * listed to users: not in the names of an unknown-function failure, nor in the error a client gets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UnknownFunctionError } from '../../src/index.js';
import { run, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

test('UnknownFunctionError leaves internal names out of its message and its list', () => {
  const error = new UnknownFunctionError('activity', 'nope', ['BuiltIn::HttpActivity', 'greet']);
  assert.equal(error.message, "The activity function 'nope' is not registered. Registered activity functions: 'greet'.");
  assert.deepEqual(error.registeredNames, ['greet']);
});

for (const store of engineStores()) {
  describe(`internal names on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('calling an unknown activity fails listing the registered activities, not BuiltIn::HttpActivity', async () => {
      await withApp(
        store,
        (app) => {
          app.activity('greet', (name: string) => `hi ${name}`);
          app.orchestration('typo', function* (ctx) {
            return yield ctx.callActivity('gret', 'x');
          });
        },
        async ({ client }) => {
          const status = await run(client, 'typo');
          assert.equal(status.runtimeStatus, 'Failed');
          const messages = JSON.stringify(status.failureDetails);
          assert.match(messages, /Registered activity functions: 'greet'\./);
          assert.ok(!messages.includes('BuiltIn::'), messages);
        },
      );
    });
  });
}
