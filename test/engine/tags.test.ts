/**
 * Instance tags through the engine, on every store: `startNew({ tags })` to `status.tags` and the `tags` filter,
 * kept through continue-as-new and restart, inherited by sub-orchestrations (their own tags win), and bad tags
 * refused with a ValidationError before anything is written.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../src/index.js';
import { eventsOf, finished, historyOf, run, withApp } from '../support/engine-helpers.js';
import { engineStores, useOrchestratorStyle } from '../support/orchestrator-styles.js';

for (const store of engineStores()) {
  describe(`tags on ${store.label}`, () => {
    useOrchestratorStyle(store);
    test('startNew stores the tags: status.tags, the ExecutionStarted event, and the tags filter of listings and purges', async () => {
      await withApp(
        store,
        (app) => app.orchestration('hello', () => 'hi'),
        async ({ client }) => {
          await run(client, 'hello', undefined, { instanceId: 'a', tags: { env: 'prod', team: 'blue' } });
          const a = await client.startNew('hello', { instanceId: 'b', tags: { env: 'prod' } });
          await finished(client, a);
          await run(client, 'hello', undefined, { instanceId: 'plain' });
          assert.deepEqual((await client.getStatus('a'))?.tags, { env: 'prod', team: 'blue' });
          assert.ok(!('tags' in (await client.getStatus('plain'))!), 'an untagged instance has no tags field');
          assert.deepEqual(eventsOf(await historyOf(client, 'a'), 'ExecutionStarted')[0]?.tags, { env: 'prod', team: 'blue' });
          const ids = async (tags: Record<string, string>) => (await client.listInstances({ tags })).instances.map((s) => s.instanceId).sort();
          assert.deepEqual(await ids({ env: 'prod' }), ['a', 'b']);
          assert.deepEqual(await ids({ env: 'prod', team: 'blue' }), ['a']);
          assert.deepEqual((await client.listInstances({ tags: { env: 'prod' } })).instances.find((s) => s.instanceId === 'b')?.tags, { env: 'prod' });
          assert.deepEqual((await client.getStatusBy({ tags: { team: 'blue' } })).map((s) => s.instanceId), ['a']);
          assert.deepEqual(await client.purgeInstanceHistoryBy({ tags: { team: 'blue' } }), { instancesDeleted: 1 });
          assert.equal(await client.getStatus('a'), undefined);
          assert.ok(await client.getStatus('b'));
        },
      );
    });

    test('continue-as-new keeps the tags on the instance and on every execution; restart keeps them too', async () => {
      await withApp(
        store,
        (app) =>
          app.orchestration('counter', function* (ctx) {
            const n = ctx.getInput<number>();
            if (n < 2) {
              yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1));
              ctx.continueAsNew(n + 1);
            }
            return n;
          }),
        async ({ client }) => {
          const status = await run(client, 'counter', 0, { instanceId: 'loop', tags: { job: 'nightly' } });
          assert.equal(status.output, 2);
          assert.deepEqual(status.tags, { job: 'nightly' });
          const started = eventsOf(await historyOf(client, 'loop'), 'ExecutionStarted');
          assert.deepEqual(started.map((e) => [e.generation, e.tags]), [[2, { job: 'nightly' }]]);
          assert.deepEqual((await client.listInstances({ tags: { job: 'nightly' } })).instances.map((s) => s.instanceId), ['loop']);
          const again = await client.restart('loop');
          assert.deepEqual((await finished(client, again)).tags, { job: 'nightly' });
        },
      );
    });

    test("sub-orchestrations inherit the parent's tags, add their own (which win), in the options form of the call", async () => {
      await withApp(
        store,
        (app) => {
          app.orchestration('child', (ctx) => ctx.instanceId);
          app.orchestration('parent', function* (ctx) {
            return [
              yield ctx.callSubOrchestrator('child', undefined, { instanceId: 'own', tags: { role: 'worker', tenant: 'override' } }),
              yield ctx.callSubOrchestrator('child', undefined, 'positional'),
              yield ctx.callSubOrchestrator('child', undefined, {}),
            ];
          });
        },
        async ({ client }) => {
          const status = await run(client, 'parent', undefined, { instanceId: 'P', tags: { tenant: 't1', env: 'dev' } });
          assert.deepEqual(status.output, ['own', 'positional', 'P:2']);
          assert.deepEqual((await client.getStatus('own'))?.tags, { tenant: 'override', env: 'dev', role: 'worker' });
          assert.deepEqual((await client.getStatus('positional'))?.tags, { tenant: 't1', env: 'dev' });
          assert.deepEqual((await client.getStatus('P:2'))?.tags, { tenant: 't1', env: 'dev' });
          const created = eventsOf(await historyOf(client, 'P'), 'SubOrchestrationInstanceCreated');
          assert.deepEqual(created.map((e) => e.tags), [{ role: 'worker', tenant: 'override' }, undefined, undefined], "the parent's history records the call's own tags");
          assert.deepEqual((await client.listInstances({ tags: { tenant: 't1' } })).instances.map((s) => s.instanceId).sort(), ['P', 'P:2', 'positional']);
        },
      );
    });

    test('bad sub-orchestration tags: a ValidationError at the call; too many with the inherited ones: the child task fails', async () => {
      const many = (prefix: string, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v']));
      await withApp(
        store,
        (app) => {
          app.orchestration('child', () => 'ran');
          app.orchestration('parent', function* (ctx) {
            const refused: string[] = [];
            for (const tags of [{ n: 1 }, many('k', 33), 'k=v']) {
              try {
                ctx.callSubOrchestrator('child', undefined, { tags: tags as never });
              } catch (error) {
                refused.push((error as Error).name);
              }
            }
            try {
              yield ctx.callSubOrchestrator('child', undefined, { instanceId: 'crowded', tags: many('own', 20) });
              return { refused, crowded: 'started' };
            } catch (error) {
              return { refused, crowded: (error as Error).message };
            }
          });
        },
        async ({ client }) => {
          const status = await run(client, 'parent', undefined, { instanceId: 'P', tags: many('parent', 20) });
          const output = status.output as { refused: string[]; crowded: string };
          assert.deepEqual(output.refused, ['ValidationError', 'ValidationError', 'ValidationError']);
          assert.match(output.crowded, /at most 32 tags.*got 40/);
          assert.equal(await client.getStatus('crowded'), undefined, 'the child was never created');
        },
      );
    });

    test('bad startNew tags are a ValidationError and nothing is written', async () => {
      await withApp(
        store,
        (app) => app.orchestration('hello', () => 'hi'),
        async ({ client }) => {
          const bad: unknown[] = [{ k: 1 }, { k: true }, { '': 'v' }, { ['k'.repeat(129)]: 'v' }, { k: 'v'.repeat(1025) }, { k: 'a\u0000' }, ['x'], new Map([['k', 'v']])];
          bad.push(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])));
          for (const [n, tags] of bad.entries()) {
            await assert.rejects(client.startNew('hello', { instanceId: `bad${n}`, tags: tags as Record<string, string> }), ValidationError, String(n));
          }
          assert.deepEqual((await client.listInstances({})).instances, []);
          await assert.rejects(client.listInstances({ tags: { k: 2 as unknown as string } }), ValidationError);
          // At the limits exactly is fine.
          const edge = { ['k'.repeat(128)]: 'v'.repeat(1024), empty: '' };
          await run(client, 'hello', undefined, { instanceId: 'edge', tags: edge });
          assert.deepEqual((await client.getStatus('edge'))?.tags, edge);
        },
      );
    });
  });
}
