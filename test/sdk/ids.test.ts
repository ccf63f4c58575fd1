/** The ground's id and text rules: EntityId keeps its name's case, instance ids refuse what URLs and stores cannot carry. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EntityId, ValidationError } from '../../src/index.js';
import { checkOperationName } from '../../src/sdk/entity-id.js';
import { checkStorableText, validateInstanceId } from '../../src/sdk/instance-id.js';

describe('EntityId', () => {
  test('keeps the name as given (the seed: entity_id.name → "EntityName"); the instance id lower-cases it', () => {
    const id = new EntityId('EntityName', 'Key-1');
    assert.equal(id.name, 'EntityName');
    assert.equal(id.key, 'Key-1');
    assert.equal(id.toString(), '@entityname@Key-1');
    assert.equal(new EntityId('ENTITYNAME', 'Key-1').toString(), id.toString(), 'names match without regard to case');
    assert.equal(EntityId.fromInstanceId('@entityname@Key-1')?.name, 'entityname');
  });

  test('refuses NUL in names and keys, @ in names, and non-strings', () => {
    for (const [name, key] of [['a\u0000b', 'k'], ['counter', 'k\u0000'], ['a@b', 'k'], ['', 'k'], [1, 'k'], ['counter', 2]] as const) {
      assert.throws(() => new EntityId(name as string, key as string), ValidationError, JSON.stringify([name, key]));
    }
  });

  test('operation names are non-empty strings without NUL', () => {
    checkOperationName('add');
    for (const bad of ['', 'a\u0000', undefined, 3]) assert.throws(() => checkOperationName(bad), ValidationError, String(bad));
  });
});

describe('instance ids', () => {
  test('C0 and C1 control characters and lone surrogates are refused; other unicode is fine', () => {
    for (const id of ['ü-😀-日本', 'a b', 'a%b', 'a.b', 'a:b']) validateInstanceId(id);
    for (const id of ['a\u0000b', 'a\u001fb', 'a\u007fb', 'a\u0085b', 'a\u009fb', 'a\ud800b', 'a\udc00', '\ud83d']) {
      assert.throws(() => validateInstanceId(id), ValidationError, JSON.stringify(id));
    }
  });

  test('text a store keeps as text may not hold NUL', () => {
    checkStorableText('fine', 'x');
    assert.throws(() => checkStorableText('no\u0000pe', 'A version'), /A version may not contain NUL/);
  });
});
