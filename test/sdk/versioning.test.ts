/**
 * Versions: Durable Functions' comparison, the rules of a version string and of `new DFApp({ versioning })`,
 * the strategies, and side-by-side registrations in the registry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DFApp, ValidationError, compareVersions } from '../../src/index.js';
import { Blueprint } from '../../src/sdk/blueprint.js';
import { checkVersion, latestVersion, strategyAccepts } from '../../src/sdk/versioning.js';

const sign = (n: number) => Math.sign(n);

describe('compareVersions', () => {
  test('absent and empty versions are equal, and older than any version', () => {
    assert.equal(compareVersions(undefined, undefined), 0);
    assert.equal(compareVersions('', undefined), 0);
    assert.equal(compareVersions(null, ''), 0);
    assert.equal(sign(compareVersions(undefined, '0')), -1);
    assert.equal(sign(compareVersions('a', '')), 1);
  });

  test('numeric dotted versions compare part by part as numbers', () => {
    assert.equal(sign(compareVersions('2', '10')), -1);
    assert.equal(sign(compareVersions('1.10', '1.9')), 1);
    assert.equal(sign(compareVersions('1.2.3.4', '1.2.3.5')), -1);
    assert.equal(compareVersions('1.01', '1.1'), 0);
    assert.equal(compareVersions('2.0', '2.0'), 0);
    assert.equal(sign(compareVersions('99999999999999999999', '100000000000000000000')), -1, 'parts of any length');
    // A missing part sorts before a present one, as .NET's System.Version does.
    assert.equal(sign(compareVersions('1.0', '1.0.0')), -1);
    assert.equal(sign(compareVersions('2', '1.9')), 1);
  });

  test('anything else compares as text, ignoring the case of ASCII letters', () => {
    assert.equal(compareVersions('V1', 'v1'), 0);
    assert.equal(sign(compareVersions('alpha', 'beta')), -1);
    assert.equal(sign(compareVersions('10', '9a')), -1, 'one side not numeric: text order');
    assert.equal(sign(compareVersions('1.2.3.4.5', '1.2.3.4.6')), -1, 'five parts are not a numeric version');
    // Upper-casing (as .NET's OrdinalIgnoreCase) puts letters before '_' (0x5F).
    assert.equal(sign(compareVersions('a', '_')), -1);
    assert.equal(sign(compareVersions('\uffff', '😀')), -1, 'by code point, not UTF-16 unit');
  });

  test('latestVersion picks the newest by that comparison', () => {
    assert.equal(latestVersion(['1', '10', '9', '2.5']), '10');
    assert.equal(latestVersion([]), undefined);
  });
});

describe('version strings and options', () => {
  test('bad version strings are ValidationErrors', () => {
    for (const bad of ['', ' 1', '1 ', 'a\u0000b', 'a\nb', 'x'.repeat(129), '\ud800', 7, null]) {
      assert.throws(() => checkVersion(bad), ValidationError, `rejects ${JSON.stringify(bad)}`);
    }
    assert.equal(checkVersion('2.0-beta+build.5'), '2.0-beta+build.5');
  });

  test('new DFApp refuses unknown strategies, unknown keys and bad default versions with a ValidationError', () => {
    const bad: unknown[] = [
      { matchStrategy: 'Latest' },
      { matchStrategy: 'strict' },
      { failureStrategy: 'Retry' },
      { defaultVersion: '' },
      { defaultVersion: 2 },
      { defaultVersion: '2.0\n' },
      { defaultVersoin: '2.0' },
      'CurrentOrOlder',
      null,
    ];
    for (const versioning of bad) {
      assert.throws(() => new DFApp({ store: 'sqlite::memory:', versioning: versioning as never }), ValidationError, JSON.stringify(versioning));
    }
    const app = new DFApp({ store: 'sqlite::memory:', versioning: { defaultVersion: '2.0', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Fail' } });
    assert.deepEqual(app.options.versioning, { defaultVersion: '2.0', matchStrategy: 'CurrentOrOlder', failureStrategy: 'Fail' });
  });

  test('strategies: None takes all, Strict the worker versions, CurrentOrOlder up to the newest of them', () => {
    assert.equal(strategyAccepts('None', '9', ['1']), true);
    assert.equal(strategyAccepts('Strict', '1', ['1', '2']), true);
    assert.equal(strategyAccepts('Strict', '1.5', ['1', '2']), false);
    assert.equal(strategyAccepts('Strict', undefined, []), true);
    assert.equal(strategyAccepts('Strict', '1', []), false);
    assert.equal(strategyAccepts('CurrentOrOlder', '1.5', ['1', '2']), true);
    assert.equal(strategyAccepts('CurrentOrOlder', '2.1', ['1', '2']), false);
    assert.equal(strategyAccepts('CurrentOrOlder', undefined, ['1']), true);
    assert.equal(strategyAccepts('CurrentOrOlder', '1', []), false);
  });
});

describe('side-by-side registrations', () => {
  test('an instance runs the registration of its version, else the unversioned one', () => {
    const bp = new Blueprint();
    const v1 = function* () {
      return 1;
    };
    const v2 = function* () {
      return 2;
    };
    const any = function* () {
      return 0;
    };
    const ref = bp.orchestration('order', v1, { version: '1' });
    bp.orchestration('order', v2, { version: '2' });
    assert.equal(ref.version, '1');
    assert.equal(bp.registry.resolveOrchestration('order', '1'), v1);
    assert.equal(bp.registry.resolveOrchestration('order', '2'), v2);
    bp.orchestration('order', v2, { version: 'beta' });
    assert.equal(bp.registry.resolveOrchestration('order', 'BETA'), v2, 'versions match as compareVersions compares them');
    assert.equal(bp.registry.resolveOrchestration('order', '3'), undefined);
    assert.equal(bp.registry.resolveOrchestration('order', undefined), undefined);
    bp.orchestration('order', any);
    assert.equal(bp.registry.resolveOrchestration('order', '3'), any);
    assert.deepEqual(bp.registry.orchestrationVersions('order'), ['1', '2', 'beta']);
    assert.deepEqual(bp.registry.names().orchestrationVersions, { order: ['', '1', '2', 'beta'] });
  });

  test('registerFunctions keeps the versions; a version registered twice is refused', () => {
    const bp = new Blueprint();
    bp.orchestration('order', function* () {}, { version: '1' });
    const app = new DFApp({ store: 'sqlite::memory:' });
    app.orchestration('order', function* () {}, { version: '2' });
    app.registerFunctions(bp);
    assert.deepEqual(app.registry.orchestrationVersions('order'), ['1', '2']);
    assert.deepEqual(app.registry.names().orchestrations, ['order']);
    assert.throws(() => app.orchestration('order', function* () {}, { version: '1.0'.slice(0, 1) }), /already registered at version '1'/);
    assert.throws(() => app.orchestration('other', function* () {}, { version: ' 1' }), ValidationError);
    assert.throws(() => app.registerFunctions(bp), ValidationError);
  });
});
