import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlgDetector, inspectResponse, serverReflexive, type ResponseObservation } from '../../../src/rtc/alg-detector.js';
import { parseMessage, parseUri, isSipUri, type SipResponse, type SipUri } from '../../../src/sip/message/index.js';

const INSTANCE = '"<urn:uuid:00000000-0000-4000-8000-000000000001>"';

function response(via: string, contacts: readonly string[] = [], status = 200): SipResponse {
  const text = [
    `SIP/2.0 ${status} OK`, `Via: ${via}`, 'From: <sip:alice@lab.test>;tag=a', 'To: <sip:alice@lab.test>;tag=b', 'Call-ID: c1@deskphone', 'CSeq: 2 REGISTER',
    ...contacts.map((c) => `Contact: ${c}`), 'Content-Length: 0', '', '',
  ].join('\r\n');
  const m = parseMessage(Buffer.from(text));
  assert.equal(m.kind, 'response');
  return m as SipResponse;
}

const uri = (text: string): SipUri => {
  const u = parseUri(text);
  assert.ok(isSipUri(u));
  return u;
};

function observation(via: string, o: Partial<ResponseObservation> & { contacts?: string[] } = {}): ResponseObservation {
  return {
    method: 'REGISTER',
    response: response(via, o.contacts),
    sentBy: { host: '192.168.14.2', port: 5060 },
    destination: { transport: 'UDP', address: '203.0.113.10', port: 5060 },
    contact: { uri: uri('sip:alice@192.168.14.2:5060;ob'), instance: INSTANCE },
    ...o,
  };
}

test('a plain NAT: received names the public address, nothing is found', () => {
  assert.equal(inspectResponse(observation('SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK1;rport=5060;received=203.0.113.25')), undefined);
});

test('the kernel SIP helper: rport but no received although we sent a private address', () => {
  const e = inspectResponse(observation('SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK1;rport=5060'));
  assert.equal(e?.kind, 'via-received-missing');
  assert.equal(e?.server, '203.0.113.10:5060');
  assert.equal(e?.sent, '192.168.14.2:5060');
});

test('an RFC 3581 server that always writes received, rewritten back to our private address by the ALG', () => {
  assert.equal(inspectResponse(observation('SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK1;rport=5060;received=192.168.14.2'))?.kind, 'via-received-private');
});

test('a Via that comes back with a sent-by we never sent', () => {
  const e = inspectResponse(observation('SIP/2.0/UDP 203.0.113.25:5060;branch=z9hG4bK1;rport=5060'));
  assert.equal(e?.kind, 'via-sent-by-changed');
  assert.equal(e?.seen, '203.0.113.25:5060');
});

test('a registrar binding with our instance but another address, and none with ours', () => {
  const via = 'SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK1;rport=5061;received=203.0.113.25';
  const e = inspectResponse(observation(via, { contacts: [`<sip:alice@203.0.113.25:5060;ob>;expires=600;+sip.instance=${INSTANCE};reg-id=1`] }));
  assert.equal(e?.kind, 'contact-rewritten');
  assert.equal(e?.seen, '203.0.113.25:5060');
  const ours = inspectResponse(observation(via, { contacts: [`<sip:alice@192.168.14.2:5060;ob>;expires=600;+sip.instance=${INSTANCE}`, '<sip:alice@198.51.100.1:5060>;expires=30'] }));
  assert.equal(ours, undefined, 'our own binding is there');
});

test('nothing is judged without a NAT in between, over streams, or towards a host name', () => {
  const via = 'SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK1;rport=5060';
  assert.equal(inspectResponse(observation(via, { destination: { transport: 'UDP', address: '192.168.14.1', port: 5060 } })), undefined, 'a server on the LAN');
  assert.equal(inspectResponse(observation(via, { sentBy: { host: '203.0.113.25', port: 5060 } })), undefined, 'a public sent-by (STUN, static)');
  assert.equal(inspectResponse(observation(via, { destination: { transport: 'TCP', address: '203.0.113.10', port: 5060 } })), undefined, 'TCP');
  assert.equal(inspectResponse(observation(via, { destination: { transport: 'UDP', address: 'sip.example.net', port: 5060 } })), undefined, 'a name');
});

test('the detector reports the first finding once and keeps the server-reflexive address', () => {
  const d = new AlgDetector();
  assert.equal(d.observe(observation('SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK1;rport=40000;received=203.0.113.25')), undefined);
  assert.deepEqual(d.serverReflexive, { address: '203.0.113.25', port: 40000 });
  assert.equal(d.detected, false);
  assert.equal(d.observe(observation('SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK2;rport=5060'))?.kind, 'via-received-missing');
  assert.equal(d.observe(observation('SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK3;rport=5060')), undefined, 'reported once');
  assert.equal(d.detected, true);
  assert.equal(d.evidence?.kind, 'via-received-missing');
  assert.deepEqual(serverReflexive(response('SIP/2.0/UDP 192.168.14.2:5060;branch=z9hG4bK4')), undefined);
});
