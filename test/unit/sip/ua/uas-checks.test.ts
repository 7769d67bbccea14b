import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage, type SipRequest } from '../../../../src/sip/message/index.js';
import { MergedRequestDetector, PHONE_CAPABILITIES, checkUasRequest, optionsHeaders } from '../../../../src/sip/ua/index.js';
import { mulberry32 } from '../../../helpers/seeded-random.js';

function req(lines: string[], body = ''): SipRequest {
  const text = [...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  return parseMessage(Buffer.from(text)) as SipRequest;
}

const base = (method: string, extra: string[] = []) => [
  `${method} sip:1001@192.0.2.10 SIP/2.0`,
  `Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-${method}-1`,
  'Max-Forwards: 70',
  'From: <sip:alice@example.com>;tag=a1',
  'To: <sip:1001@example.com>',
  'Call-ID: c1@example.com',
  `CSeq: 1 ${method}`,
  ...extra,
];

const check = (r: SipRequest, merged = new MergedRequestDetector()) => checkUasRequest(r, PHONE_CAPABILITIES, merged, 0);

test('an unknown method gets 405 with Allow', () => {
  const r = check(req(base('PUBLISH')));
  assert.equal(r?.status, 405);
  assert.deepEqual(r?.headers, [['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY']]);
});

test('Require with an unknown option tag gets 420 naming it in Unsupported', () => {
  const r = check(req(base('INVITE', ['Contact: <sip:a@198.51.100.1>', 'Require: 100rel, foo-bar'])));
  assert.equal(r?.status, 420);
  assert.deepEqual(r?.headers, [['Unsupported', 'foo-bar']]);
  assert.equal(check(req(base('INVITE', ['Contact: <sip:a@198.51.100.1>', 'Require: 100rel']))), undefined);
});

test('a body we cannot read gets 415 with Accept', () => {
  const r = check(req(base('INVITE', ['Contact: <sip:a@198.51.100.1>', 'Content-Type: application/x-private']), 'xyz'));
  assert.equal(r?.status, 415);
  assert.deepEqual(r?.headers[0], ['Accept', 'application/sdp, application/dtmf-relay, message/sipfrag']);
  assert.equal(check(req(base('INVITE', ['Contact: <sip:a@198.51.100.1>', 'Content-Type: application/sdp']), 'v=0\r\n')), undefined);
});

test('the same request arriving again with another branch is a merged request: 482', () => {
  const merged = new MergedRequestDetector();
  assert.equal(check(req(base('OPTIONS')), merged), undefined);
  const again = base('OPTIONS');
  again[1] = 'Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-other';
  assert.equal(check(req(again), merged)?.status, 482);
  assert.equal(check(req(base('OPTIONS')), merged), undefined, 'same branch is a retransmission, not a merge');
});

test('Max-Forwards 0 gets 483 except for OPTIONS', () => {
  const inv = base('INVITE', ['Contact: <sip:a@198.51.100.1>']);
  inv[2] = 'Max-Forwards: 0';
  assert.equal(check(req(inv))?.status, 483);
  const opt = base('OPTIONS');
  opt[2] = 'Max-Forwards: 0';
  assert.equal(check(req(opt)), undefined);
});

test('a request missing Call-ID gets 400 before anything else', () => {
  assert.equal(check(req(base('INVITE').filter((l) => !l.startsWith('Call-ID'))))?.status, 400);
});

test('OPTIONS answers list methods, bodies and extensions', () => {
  const h = new Map(optionsHeaders(PHONE_CAPABILITIES));
  assert.equal(h.get('Supported'), '100rel, timer, replaces, outbound, path');
  assert.equal(h.get('Accept'), 'application/sdp, application/dtmf-relay, message/sipfrag');
});

test('the merged-request detector forgets requests after its window, and the oldest first when full', () => {
  const d = new MergedRequestDetector(32_000, 3);
  assert.equal(d.seen('t1', 'c1', 1, 'OPTIONS', 'z9hG4bK1', 0), false);
  assert.equal(d.seen('t1', 'c1', 1, 'OPTIONS', 'z9hG4bK2', 32_000), true, 'another branch within the window');
  assert.equal(d.seen('t1', 'c1', 1, 'OPTIONS', 'z9hG4bK2', 32_001), false, 'after the window it is new again');
  for (const callId of ['c2', 'c3', 'c4']) d.seen('t1', callId, 1, 'OPTIONS', 'z9hG4bK3', 32_001);
  assert.equal(d.size, 3);
  assert.equal(d.seen('t1', 'c1', 1, 'OPTIONS', 'z9hG4bK9', 32_001), false, 'c1 was the oldest and went');
  assert.equal(d.seen('t1', 'c4', 1, 'OPTIONS', 'z9hG4bK9', 32_001), true, 'c4 is still there');
});

test('the merged-request detector tells apart keys that differ in one part only, or in where the parts split', () => {
  const d = new MergedRequestDetector();
  assert.equal(d.seen('ab', 'c', 1, 'OPTIONS', 'x', 0), false);
  assert.equal(d.seen('a', 'bc', 1, 'OPTIONS', 'y', 0), false);
  assert.equal(d.seen('ab', 'c', 2, 'OPTIONS', 'y', 0), false);
  assert.equal(d.seen('ab', 'c', 1, 'INFO', 'y', 0), false);
  assert.equal(d.seen('', 'abc', 1, 'OPTIONS', 'y', 0), false);
  assert.equal(d.seen('ab', 'c', 1, 'OPTIONS', 'y', 0), true);
});

test('the merged-request detector agrees with a plain map through many inserts, expiries and evictions', () => {
  const rnd = mulberry32(4);
  const d = new MergedRequestDetector(1000, 64);
  const model: Array<{ key: string; branch: string; at: number }> = [];
  let now = 0;
  for (let i = 0; i < 50_000; i++) {
    now += Math.floor(rnd() * 20);
    while (model.length > 0 && now - (model[0]?.at ?? 0) > 1000) model.shift();
    const callId = `call-${Math.floor(rnd() * 200)}`;
    const branch = `z9hG4bK${Math.floor(rnd() * 3)}`;
    const prior = model.find((e) => e.key === callId);
    const expected = prior ? prior.branch !== branch : false;
    if (!prior) {
      if (model.length === 64) model.shift();
      model.push({ key: callId, branch, at: now });
    }
    assert.equal(d.seen('tag', callId, 1, 'OPTIONS', branch, now), expected, `step ${i}`);
    assert.equal(d.size, model.length);
  }
});
