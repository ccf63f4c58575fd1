/** The tag rules of sdk/tags.ts that every way in shares: checks and their limits, merging, key=value pairs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../src/sdk/errors.js';
import { checkTags, MAX_TAG_KEY_LENGTH, MAX_TAG_VALUE_LENGTH, MAX_TAGS, mergeTags, parseTagPair, tagsFromPairs } from '../../src/sdk/tags.js';

describe('instance tags', () => {
  test('checkTags returns a plain copy, undefined for none, and accepts the limits exactly', () => {
    const given = { a: '1' };
    const copy = checkTags(given);
    assert.deepEqual(copy, { a: '1' });
    assert.notEqual(copy, given);
    assert.equal(checkTags(undefined), undefined);
    assert.equal(checkTags(null), undefined);
    assert.equal(checkTags({}), undefined);
    const full = Object.fromEntries(Array.from({ length: MAX_TAGS }, (_, i) => [`k${i}`, '']));
    assert.equal(Object.keys(checkTags(full)!).length, MAX_TAGS);
    assert.deepEqual(checkTags({ ['k'.repeat(MAX_TAG_KEY_LENGTH)]: 'v'.repeat(MAX_TAG_VALUE_LENGTH) }), { ['k'.repeat(128)]: 'v'.repeat(1024) });
    const proto = checkTags(JSON.parse('{"__proto__":"x"}'))!;
    assert.deepEqual(Object.keys(proto), ['__proto__']);
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.deepEqual(checkTags(Object.assign(Object.create(null), { k: 'v' })), { k: 'v' });
  });

  test('checkTags refuses everything else with a ValidationError naming the option and the tag', () => {
    const cases: [unknown, RegExp][] = [
      ['k=v', /tags must be an object/],
      [['v'], /tags must be an object/],
      [new Map([['k', 'v']]), /tags must be an object/],
      [new (class Tags {})(), /tags must be an object/],
      [{ k: 1 }, /value of tag 'k' must be a string \(got number\)/],
      [{ k: null }, /value of tag 'k' must be a string \(got null\)/],
      [{ k: ['v'] }, /got an array/],
      [{ '': 'v' }, /key may not be empty/],
      [{ ['k'.repeat(129)]: 'v' }, /at most 128 characters \(got 129\)/],
      [{ k: 'v'.repeat(1025) }, /at most 1024 characters \(got 1025\)/],
      [{ 'a\nb': 'v' }, /control characters/],
      [{ '\ud800': 'v' }, /lone surrogates/],
      [{ k: 'a\u0000' }, /NUL/],
      [{ k: '\udc00' }, /lone surrogates/],
      [Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])), /at most 32 tags \(got 33\)/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => checkTags(value), (error: unknown) => error instanceof ValidationError && message.test(error.message), String(message));
    }
    assert.throws(() => checkTags({ k: 1 }, 'tags filter'), /^ValidationError: tags filter: /);
    assert.deepEqual(checkTags({ k: 'tab\there, 😀 and a newline\n' }), { k: 'tab\there, 😀 and a newline\n' }, 'values may hold any text but NUL');
  });

  test("mergeTags: the parent's tags, overridden by the child's own", () => {
    assert.equal(mergeTags(undefined, undefined), undefined);
    assert.deepEqual(mergeTags({ a: '1' }, undefined), { a: '1' });
    assert.deepEqual(mergeTags(undefined, { b: '2' }), { b: '2' });
    assert.deepEqual(mergeTags({ a: '1', b: 'parent' }, { b: 'child', c: '3' }), { a: '1', b: 'child', c: '3' });
  });

  test('key=value pairs: the key ends at the first =, later pairs win', () => {
    assert.deepEqual(parseTagPair('k=a=b'), ['k', 'a=b']);
    assert.deepEqual(parseTagPair('k='), ['k', '']);
    assert.throws(() => parseTagPair('novalue'), ValidationError);
    assert.throws(() => parseTagPair('=v'), ValidationError);
    assert.deepEqual(tagsFromPairs(['a=1', 'b=2', 'a=3']), { a: '3', b: '2' });
    assert.equal(tagsFromPairs([]), undefined);
  });
});
