import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatUri, getCSeq, parseMessage, parseNameAddr, serializeMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';
import { Dialog, PrackUac, ReliableProvisionalUas, parseRAck } from '../../../../src/sip/dialog/index.js';

const crlf = (s: string) => Buffer.from(`${s.trim().split('\n').join('\r\n')}\r\n\r\n`);

const INVITE = parseMessage(crlf(`
INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport
Max-Forwards: 70
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 31862 INVITE
Contact: <sip:alice@192.0.2.10:5060>
Content-Length: 0`)) as SipRequest;

const OK = parseMessage(crlf(`
SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport=5060
Record-Route: <sip:p2.example.com;lr>
Record-Route: <sip:p1.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 31862 INVITE
Contact: <sip:bob@198.51.100.20:5070>
Content-Length: 0`)) as SipResponse;

const LOCAL_CONTACT = parseNameAddr('<sip:alice@192.0.2.10:5060>');

test('a UAC dialog from a 2xx takes the reversed Record-Route as its route set and the Contact as target', () => {
  const d = Dialog.asUac(INVITE, OK, LOCAL_CONTACT);
  assert.equal(d.state, 'confirmed');
  assert.deepEqual(d.id, { callId: '3848276298220188511@atlanta.example.com', localTag: '9fxced76sl', remoteTag: '8321234356' });
  assert.deepEqual(d.routeSet.map((r) => formatUri(r.uri)), ['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
  const bye = d.createRequest('BYE');
  assert.equal(formatUri(bye.uri), 'sip:bob@198.51.100.20:5070');
  assert.deepEqual(bye.headers.getAll('Route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.deepEqual(getCSeq(bye), { seq: 31863, method: 'BYE' });
  assert.match(bye.headers.get('To') ?? '', /tag=8321234356/);
  assert.match(bye.headers.get('From') ?? '', /tag=9fxced76sl/);
});

test('ACK for a 2xx reuses the INVITE CSeq number', () => {
  const d = Dialog.asUac(INVITE, OK, LOCAL_CONTACT);
  assert.deepEqual(getCSeq(d.createRequest('ACK', { cseq: 31862 })), { seq: 31862, method: 'ACK' });
  assert.equal(d.localSeq, 31862);
});

test('a strict router (no ;lr) becomes the Request-URI and the target goes last in Route (§12.2.1.1)', () => {
  const strict = parseMessage(Buffer.from(serialize(OK).replace('<sip:p1.example.com;lr>', '<sip:p1.example.com>'))) as SipResponse;
  const d = Dialog.asUac(INVITE, strict, LOCAL_CONTACT);
  const req = d.createRequest('INFO');
  assert.equal(formatUri(req.uri), 'sip:p1.example.com');
  assert.deepEqual(req.headers.getAll('Route'), ['<sip:p2.example.com;lr>', '<sip:bob@198.51.100.20:5070>']);
});

test('requests inside the dialog with a lower or equal CSeq get 500; a re-INVITE refreshes the target', () => {
  const d = Dialog.asUas(INVITE, 'localtag1', parseNameAddr('<sip:bob@198.51.100.20:5070>'), false);
  assert.equal(d.remoteSeq, 31862);
  const reinvite = parseMessage(Buffer.from(serialize(INVITE).replace('CSeq: 31862 INVITE', 'CSeq: 31863 INVITE').replace('<sip:alice@192.0.2.10:5060>', '<sip:alice@203.0.113.5:6000>'))) as SipRequest;
  assert.equal(d.receiveRequest(reinvite), undefined);
  assert.equal(formatUri(d.remoteTarget), 'sip:alice@203.0.113.5:6000');
  assert.equal(d.receiveRequest(reinvite)?.status, 500);
  const old = parseMessage(Buffer.from(serialize(INVITE).replace('CSeq: 31862 INVITE', 'CSeq: 5 BYE').replace('INVITE sip:', 'BYE sip:'))) as SipRequest;
  assert.equal(d.receiveRequest(old)?.status, 500);
});

test('early dialogs become confirmed on 2xx and cannot come back', () => {
  const ringing = parseMessage(Buffer.from(serialize(OK).replace('200 OK', '180 Ringing'))) as SipResponse;
  const d = Dialog.asUac(INVITE, ringing, LOCAL_CONTACT);
  assert.equal(d.state, 'early');
  d.receiveResponse(INVITE, OK);
  assert.equal(d.state, 'confirmed');
  assert.throws(() => d.transition('early'), /from confirmed to early/);
  d.transition('terminated');
  assert.throws(() => d.createRequest('BYE'), /terminated/);
});

test('reliable provisional responses retransmit at T1 doubling and fail after 64*T1 without PRACK (RFC 3262 §3)', () => {
  const uas = new ReliableProvisionalUas(31862, 500, 1000);
  const sends: number[] = [];
  const run = (actions: ReturnType<typeof uas.wake>, at: number) => {
    for (const a of actions) if (a.kind === 'send') sends.push(at);
  };
  run(uas.send(0), 0);
  assert.equal(uas.rseq, 1000);
  for (let t = 0; t <= 32_000; t += 250) run(uas.wake(t), t);
  assert.deepEqual(sends, [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.deepEqual(uas.wake(32_000), []);
  assert.equal(uas.state, 'failed');
});

test('a PRACK with the right RAck acknowledges; a wrong one gets 481', () => {
  const uas = new ReliableProvisionalUas(31862, 500, 77);
  uas.send(0);
  assert.equal(uas.canSend, false);
  assert.equal(uas.prack(parseRAck('77 31861 INVITE')).status, 481);
  assert.equal(uas.prack(parseRAck('77 31862 INVITE')).status, 200);
  assert.equal(uas.canSend, true);
  assert.equal(parseRAck('x 1 INVITE'), undefined);
  assert.equal(parseRAck('99999999999 1 INVITE'), undefined);
});

test('the UAC PRACKs each reliable provisional once and in order (RFC 3262 §4)', () => {
  const uac = new PrackUac(31862);
  assert.deepEqual(uac.receive('500'), { kind: 'prack', rack: '500 31862 INVITE' });
  assert.equal(uac.receive('500').kind, 'ignore');
  assert.equal(uac.receive('502').kind, 'ignore');
  assert.deepEqual(uac.receive('501'), { kind: 'prack', rack: '501 31862 INVITE' });
  assert.equal(uac.receive(undefined).kind, 'ignore');
});

function serialize(m: SipRequest | SipResponse): string {
  return serializeMessage(m).toString('latin1');
}
