/** `duraflow entities signal|get|list` as real child processes, through the store and the host's API. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EntityId } from '../../src/index.js';
import { assertOneLineError, cli, startCliHost, type CliHost } from './cli-support.js';

let h: CliHost;
before(async () => {
  h = await startCliHost();
});
after(() => h?.stop());

async function waitForState(key: string, state: unknown): Promise<void> {
  for (let i = 0; i < 800 && (await h.client.readEntityState(new EntityId('Counter', key))).entityState !== state; i++) await new Promise((r) => setTimeout(r, 25));
}

describe('duraflow entities', () => {
  test('signal, get and list an entity through the store', async () => {
    const signalled = await cli(['entities', 'signal', 'Counter', 'c-1', 'add', '--input', '4', ...h.S]);
    assert.equal(signalled.code, 0, signalled.stderr);
    assert.equal(signalled.stdout.trim(), "Signalled 'add' to counter / c-1.");
    await waitForState('c-1', 4);
    const got = JSON.parse((await cli(['entities', 'get', 'Counter', 'c-1', '--json', ...h.S])).stdout) as Record<string, unknown>;
    assert.deepEqual({ ...got, lastOperationTime: undefined }, { entityId: { name: 'counter', key: 'c-1' }, entityExists: true, state: 4, pendingOperations: [], lastOperationTime: undefined });
    const text = await cli(['entities', 'get', 'counter', 'c-1', ...h.S]);
    assert.match(text.stdout, /^State: 4$/m);
    assert.match(text.stdout, /^Locked by: +\(not locked\)$/m);
    const listed = JSON.parse((await cli(['entities', 'list', '--json', ...h.S])).stdout) as { name: string; key: string; state: unknown }[];
    assert.deepEqual(listed.map((e) => [e.name, e.key, e.state]), [['counter', 'c-1', 4]]);
    assertOneLineError(await cli(['entities', 'get', 'Counter', 'nobody', ...h.S]), /^duraflow: No entity 'counter' with key 'nobody'\.$/);
  });

  test('signal, get and list an entity through the API', async () => {
    const signalled = await cli(['entities', 'signal', 'Counter', 'u-1', 'add', '--input', '9', ...h.U]);
    assert.equal(signalled.code, 0, signalled.stderr);
    await waitForState('u-1', 9);
    const got = JSON.parse((await cli(['entities', 'get', 'Counter', 'u-1', '--json', ...h.U])).stdout) as { entityExists: boolean; state: unknown };
    assert.equal(got.entityExists, true);
    assert.equal(got.state, 9);
    const listed = JSON.parse((await cli(['entities', 'list', '--name', 'counter', '--json', ...h.U])).stdout) as { key: string; state: unknown }[];
    assert.deepEqual(listed.find((e) => e.key === 'u-1')?.state, 9);
  });
});
