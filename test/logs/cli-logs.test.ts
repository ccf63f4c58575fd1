/**
 * What `duraflow start` and `duraflow worker` log on stderr, read back in both formats (`--log-format pretty`
 * and `json`) from the real CLI: the startup record (store without password, task hub, names, URL), failed
 * instances and non-determinism, a throwing route handler (with its stack; the client's 500 names the route),
 * `ctx.log` of orchestrations (once per step, silent while replaying) and entities, and the graceful drain.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { CLI } from '../cli/cli-support.js';
import { findRecord, LOG_FORMATS, parseLogs, waitForRecord, type LogRecord } from '../support/log-capture.js';
import { newTestSchema, pgUnavailableReason } from '../support/postgres.js';
import { sqliteTestStore } from '../support/stores.js';
import type { LogFormat } from '../../src/app/pino-logger.js';

const APP = 'test/logs/fixtures/log-app.ts';
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** A running `duraflow` command whose stderr is read as log records. */
function run(args: string[], format: LogFormat) {
  const child = spawn(process.execPath, [CLI, ...args, '--log-format', format, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = once(child, 'close').then(([code]) => {
    children.delete(child);
    return code as number | null;
  });
  return {
    records: (): LogRecord[] => parseLogs(stderr, format),
    text: () => stderr,
    waitFor: (msg: RegExp, fields: Record<string, unknown> = {}) =>
      waitForRecord(() => findRecord(parseLogs(stderr, format), msg, fields), `${msg} ${JSON.stringify(fields)}`, 30_000, () => stderr),
    async stop(): Promise<number | null> {
      child.kill('SIGTERM');
      return closed;
    },
  };
}

async function post(url: string, body?: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

/** A store URL for the run: PostgreSQL with a password in it when the server is there (it must not be logged), else SQLite. */
async function storeForRun(): Promise<{ url: string; secret?: string; cleanup: () => Promise<void> }> {
  if (!(await pgUnavailableReason())) {
    const schema = newTestSchema();
    // Trust authentication ignores the password, so the URL works and the test can look for it in the logs.
    return { url: schema.url.replace('postgres://postgres@', 'postgres://postgres:hunter2@'), secret: 'hunter2', cleanup: schema.drop };
  }
  return sqliteTestStore.create();
}

for (const format of LOG_FORMATS) {
  describe(`duraflow start|worker --log-format ${format}`, () => {
    test('startup, failures, non-determinism, route handler errors, ctx.log and the drain, on stderr', async () => {
      const store = await storeForRun();
      try {
        const host = run(['start', APP, '--port', '0', '--store', store.url], format);
        const started = await host.waitFor(/^duraflow host listening$/);
        const url = String(started.fields['url']);
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(started.level, 'info');
        assert.equal(started.fields['taskHub'], 'default');
        assert.equal(String(started.fields['orchestrations']), 'broken,chatty,drifting');
        assert.equal(String(started.fields['activities']), 'first,greet,second', 'no BuiltIn::HttpActivity');
        assert.equal(String(started.fields['entities']), 'noisy');
        if (store.secret) {
          assert.match(String(started.fields['store']), /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\/test\?schema=/);
          assert.ok(!host.text().includes(store.secret), 'the password is never logged');
        } else assert.equal(started.fields['store'], store.url);

        const api = `${url}/runtime/webhooks/durabletask`;
        const idOf = async (name: string) => ((await (await post(`${api}/orchestrators/${name}`)).json()) as { id: string }).id;
        const [chatty, broken, drifting] = [await idOf('chatty'), await idOf('broken'), await idOf('drifting')];
        assert.equal((await post(`${api}/entities/Noisy/k1?op=ping`, 5)).status, 202);

        const failed = await host.waitFor(/^orchestration failed$/, { instanceId: broken });
        assert.equal(failed.level, 'error');
        assert.deepEqual([failed.fields['name'], failed.fields['taskHub'], failed.fields['errorType'], failed.fields['errorMessage']], ['broken', 'default', 'TypeError', 'kaboom']);
        const drift = await host.waitFor(/^orchestration failed: non-deterministic replay$/, { instanceId: drifting });
        assert.deepEqual([drift.level, drift.fields['name'], drift.fields['errorType']], ['error', 'drifting', 'NonDeterministicOrchestrationError']);
        assert.match(String(drift.fields['errorMessage']), /first.*second|second.*first/);

        const entity = await host.waitFor(/^noisy operation$/);
        assert.deepEqual([entity.level, entity.fields['instanceId'], entity.fields['name'], entity.fields['operation'], String(entity.fields['value'])], ['warn', '@noisy@k1', 'noisy', 'ping', '5']);

        const crash = await fetch(`${url}/api/crash`);
        assert.equal(crash.status, 500);
        const body = (await crash.json()) as Record<string, unknown>;
        assert.equal(body['ExceptionType'], 'RangeError');
        assert.equal(body['route'], 'crash');
        assert.match(String(body['Message']), /^The handler of route 'crash' threw a RangeError; the host's log has its message and stack under errorId [0-9a-f]{12}\.$/);
        assert.ok(!JSON.stringify(body).includes('handler broke'), 'the message stays in the log');
        const handler = await host.waitFor(/^route handler 'crash' failed$/, { errorId: body['errorId'] });
        assert.deepEqual([handler.level, handler.fields['method'], handler.fields['path'], handler.fields['err']], ['error', 'GET', '/api/crash', 'RangeError: handler broke']);
        assert.match(handler.stack ?? '', /log-app\.ts/);

        // Each step is logged once although every episode replays the steps before it (the cache is off).
        await host.waitFor(/^step 2$/, { instanceId: chatty });
        const status = await waitForRecord(
          () => findRecord(host.records(), /^orchestration completed$/, { instanceId: chatty }),
          'chatty completed',
          30_000,
          host.text,
        );
        assert.equal(status.level, 'debug');
        const steps = host.records().filter((r) => /^step \d$/.test(r.msg) && r.fields['instanceId'] === chatty);
        assert.deepEqual(steps.map((r) => [r.msg, r.level, r.fields['name'], r.fields['taskHub']]), [0, 1, 2].map((i) => [`step ${i}`, 'info', 'chatty', 'default']));

        assert.equal(await host.stop(), 0);
        const end = host.records().map((r) => r.msg);
        const draining = end.indexOf('worker draining');
        assert.ok(end.indexOf('SIGTERM received: stopping') >= 0 && draining > end.indexOf('SIGTERM received: stopping'), end.join('\n'));
        assert.ok(end.indexOf('worker drained') > draining && end.indexOf('duraflow host stopped') > end.indexOf('worker drained'), end.join('\n'));
        const drained = findRecord(host.records(), /^worker drained$/)!;
        assert.deepEqual([String(drained.fields['activitiesFinished']), String(drained.fields['activitiesReleased'])], ['0', '0']);

        const worker = run(['worker', APP, '--store', store.url], format);
        const running = await worker.waitFor(/^duraflow worker running$/);
        assert.match(String(running.fields['workerId']), /:\d+:[0-9a-f]{8}$/);
        assert.equal(String(running.fields['orchestrations']), 'broken,chatty,drifting');
        if (store.secret) assert.ok(!worker.text().includes(store.secret));
        assert.equal(await worker.stop(), 0);
        await worker.waitFor(/^worker drained$/, { workerId: running.fields['workerId'] });
      } finally {
        await store.cleanup();
      }
    });
  });
}
