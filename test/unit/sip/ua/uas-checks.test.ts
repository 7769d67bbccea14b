import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage, type SipRequest } from '../../../../src/sip/message/index.js';
import { MergedRequestDetector, PHONE_CAPABILITIES, checkUasRequest, optionsHeaders } from '../../../../src/sip/ua/index.js';

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
