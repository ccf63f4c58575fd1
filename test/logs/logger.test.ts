/**
 * The CLI's pino logger behind the `Logger` interface: levels, both formats (JSON lines with fields; pretty
 * lines with the stack below), how arguments become fields, and `withFields`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCliLogger, toRecord } from '../../src/app/pino-logger.js';
import { prettyLine } from '../../src/app/pretty-log.js';
import { silentLogger, withFields } from '../../src/sdk/logger.js';
import { captureLogs, LOG_FORMATS } from '../support/log-capture.js';

describe('the CLI logger', () => {
  test('plain objects become fields, an Error becomes err, other values join the message', () => {
    const error = new TypeError('boom');
    const [fields, message] = toRecord('failed', [{ instanceId: 'i1' }, error, 42, { name: 'n' }]);
    assert.equal(message, 'failed 42');
    assert.deepEqual(fields, { instanceId: 'i1', err: error, name: 'n' });
  });

  for (const format of LOG_FORMATS) {
    test(`${format}: one record per call with its fields and the error's stack, at or above the level`, () => {
      const logs = captureLogs(format, 'info');
      logs.logger.debug('not shown');
      logs.logger.info('host listening', { url: 'http://127.0.0.1:7071', orchestrations: ['a', 'b'], entities: [] });
      logs.logger.error('orchestration failed', { instanceId: 'order 42', name: 'order', errorType: 'TypeError' }, new TypeError('kaboom'));
      const records = logs.records();
      assert.deepEqual(records.map((r) => [r.level, r.msg]), [['info', 'host listening'], ['error', 'orchestration failed']]);
      assert.equal(records[0]!.fields['url'], 'http://127.0.0.1:7071');
      assert.equal(String(records[0]!.fields['orchestrations']), 'a,b');
      assert.deepEqual(records[0]!.fields['entities'], []);
      assert.equal(records[1]!.fields['instanceId'], 'order 42');
      assert.equal(records[1]!.fields['err'], 'TypeError: kaboom');
      assert.match(records[1]!.stack ?? '', /at .*logger\.test\.ts/);
      if (format === 'json') for (const line of logs.text().trim().split('\n')) assert.equal(typeof JSON.parse(line), 'object');
      else assert.equal(logs.text().split('\n').filter((l) => /^\d{4}-/.test(l)).length, 2, 'one line per event (the stack indented below)');
    });
  }

  test('silent logs nothing; warn leaves out info', () => {
    const silent = captureLogs('json');
    const quiet = createCliLogger({ level: 'silent', stream: { write: () => assert.fail('wrote at level silent') } });
    quiet.error('nothing');
    const warn = captureLogs('json', 'warn');
    warn.logger.info('dropped');
    warn.logger.warn('kept');
    assert.deepEqual(warn.records().map((r) => r.msg), ['kept']);
    assert.equal(silent.text(), '');
  });

  test('bad level or format names are a one-line ValidationError', () => {
    assert.throws(() => createCliLogger({ level: 'loud' as never }), { name: 'ValidationError', message: /--log-level must be one of debug, info, warn, error, silent/ });
    assert.throws(() => createCliLogger({ format: 'xml' as never }), { name: 'ValidationError', message: /--log-format must be one of pretty, json/ });
  });

  test('pretty lines escape control characters from user data, and color only when asked', () => {
    const line = prettyLine({ level: 'warn', time: '2025-01-02T03:04:05.000Z', msg: 'entity said \x1b[2J', key: 'a\nb' });
    assert.equal(line, '2025-01-02T03:04:05.000Z WARN  entity said \\u001b[2J  key="a\\nb"\n');
    assert.match(prettyLine({ level: 'error', time: 0, msg: 'x' }, true), /\x1b\[31mERROR\x1b\[0m/);
  });

  test('withFields adds fields to every record (computed at the call when given a function); silent stays silent', () => {
    const logs = captureLogs('json');
    let id = 'first';
    const named = withFields(logs.logger, () => ({ instanceId: id }));
    named.info('one');
    id = 'second';
    named.warn('two', { extra: true });
    assert.deepEqual(logs.records().map((r) => [r.msg, r.fields['instanceId'], r.fields['extra']]), [['one', 'first', undefined], ['two', 'second', true]]);
    assert.equal(withFields(silentLogger, { a: 1 }), silentLogger);
  });
});
