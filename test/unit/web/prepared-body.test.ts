import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ifNoneMatchMatches, prepareBody } from '../../../src/web/prepared-body.js';

test('a prepared body has a strong ETag from its bytes: equal content, equal tag', () => {
  const a = prepareBody('{"x":1}', 'application/json; charset=utf-8');
  assert.equal(a.bytes.toString('utf8'), '{"x":1}');
  assert.match(a.etag, /^"[\w-]{27}"$/);
  assert.equal(prepareBody('{"x":1}', 'application/json; charset=utf-8').etag, a.etag);
  assert.notEqual(prepareBody('{"x":2}', 'application/json; charset=utf-8').etag, a.etag);
  assert.equal(prepareBody('é', 'text/html').bytes.length, 2, 'UTF-8 bytes');
});

test('If-None-Match (RFC 9110 §13.1.2): a list of tags, weak comparison, or *', () => {
  const tag = '"abc"';
  assert.equal(ifNoneMatchMatches(undefined, tag), false);
  assert.equal(ifNoneMatchMatches('"abc"', tag), true);
  assert.equal(ifNoneMatchMatches('W/"abc"', tag), true);
  assert.equal(ifNoneMatchMatches('"x", "y" ,W/"abc"', tag), true);
  assert.equal(ifNoneMatchMatches(' * ', tag), true);
  assert.equal(ifNoneMatchMatches('"abcd"', tag), false);
  assert.equal(ifNoneMatchMatches('abc', tag), false, 'an unquoted tag is not a tag');
  assert.equal(ifNoneMatchMatches('"a,bc"', tag), false);
  assert.equal(ifNoneMatchMatches('', tag), false);
});
