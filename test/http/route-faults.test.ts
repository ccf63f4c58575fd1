/**
 * Route handlers that throw anything, reject, or never answer: each such request gets a 500 (or waits alone)
 * and the host goes on serving every other request. (A Promise a handler leaks: test/cli/poison-host.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp, type Logger } from '../../src/index.js';
import { sqliteTestStore } from '../support/stores.js';

describe('route handler faults', () => {
  test('a handler that throws a non-Error or rejects answers 500 with a JSON body and is logged; a hanging one holds only its request', async () => {
    const { url: store, cleanup } = await sqliteTestStore.create();
    const logged: string[] = [];
    // The error is the last argument (structured fields may come before it).
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (message, ...args) => void logged.push(`${message}: ${(args.at(-1) as Error)?.message}`) };
    const app = new DFApp({ store, httpAuthLevel: 'anonymous', logger });
    let hanging = 0;
    app.route('throws-string', () => {
      throw 'nope';
    });
    app.route('throws-null', async () => {
      throw null;
    });
    app.route('rejects', () => Promise.reject(new Error('rejected')));
    app.route('hangs', () => {
      hanging++;
      return new Promise(() => {});
    });
    app.route('ok', () => ({ ok: true }));
    const host = await app.start({ port: 0 });
    try {
      for (const path of ['throws-string', 'throws-null', 'rejects']) {
        const response = await fetch(`${host.url}/api/${path}`);
        assert.equal(response.status, 500, path);
        const body = (await response.json()) as { ExceptionType: string; errorId: string; route: string };
        // The type of what was thrown (an Error wrapping a non-Error), the route and the id of the log record.
        assert.equal(body.ExceptionType, 'Error');
        assert.equal(body.route, path);
        assert.match(body.errorId, /^[0-9a-f]+$/);
      }
      assert.ok(logged.some((line) => /route 'throws-string' threw string \(nope\), not an Error/.test(line)), logged.join('\n'));
      assert.ok(logged.some((line) => /route 'throws-null' threw null/.test(line)));
      const stuck = new AbortController();
      const pending = fetch(`${host.url}/api/hangs`, { signal: stuck.signal }).catch((error: Error) => error.name);
      // Served while the hanging request waits.
      while (hanging === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const answers = await Promise.all(Array.from({ length: 5 }, () => fetch(`${host.url}/api/ok`).then((r) => r.status)));
      assert.deepEqual(answers, [200, 200, 200, 200, 200]);
      stuck.abort();
      assert.equal(await pending, 'AbortError');
    } finally {
      await host.stop(); // a handler that never answers does not keep the host from stopping
      await cleanup();
    }
  });
});
