// The STUN client driver: on a shared socket it only sends and takes responses through handle();
// on its own socket it reads them itself. Timers run on a FakeClock, so the 39.5 s timeout is instant.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import {
  StunClient, StunError, decodeStunMessage, encodeStunMessage, getAttribute, type DecodedStunMessage, type StunAttribute,
  type StunSocket,
} from '../../../../src/nat/stun/index.js';
import { FakeClock } from '../../../../src/util/index.js';

/** A socket the test owns: records what the client sends and lets the test await each send. */
class FakeSocket implements StunSocket {
  readonly sent: { msg: DecodedStunMessage; port: number; address: string }[] = [];
  private waiters: ((m: DecodedStunMessage) => void)[] = [];
  failWith: Error | undefined;

  send(msg: Uint8Array, port: number, address: string, callback: (error: Error | null) => void): void {
    const decoded = decodeStunMessage(msg);
    this.sent.push({ msg: decoded, port, address });
    for (const w of this.waiters.splice(0)) w(decoded);
    const err = this.failWith ?? null;
    queueMicrotask(() => callback(err));
  }

  nextSend(): Promise<DecodedStunMessage> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

const SERVER = { address: '192.0.2.10', port: 3478 };
const FROM_SERVER = { address: '192.0.2.10', port: 3478 };

function answer(req: DecodedStunMessage, attributes: StunAttribute[], cls: 'success' | 'error' = 'success', fingerprint = true): Buffer {
  return encodeStunMessage({ method: 1, class: cls, transactionId: req.transactionId, attributes }, { fingerprint });
}

const XOR: StunAttribute = { kind: 'xor-mapped-address', address: { family: 'IPv4', address: '198.51.100.1', port: 62000 } };

test('on a shared socket: sends CHANGE-REQUEST, RESPONSE-PORT, PADDING, SOFTWARE and takes the answer via handle()', async () => {
  const socket = new FakeSocket();
  const clock = new FakeClock(1000);
  const client = new StunClient({ socket, clock, software: 'deskphone-test' });
  const sent = socket.nextSend();
  const result = client.binding(SERVER, { changeIp: true, changePort: false, responsePort: 5062, padding: 9 });
  const req = await sent;
  assert.deepEqual(socket.sent.map((s) => [s.address, s.port]), [['192.0.2.10', 3478]]);
  assert.deepEqual(req.attributes.map((a) => a.kind), ['software', 'change-request', 'response-port', 'padding', 'fingerprint']);
  assert.deepEqual(getAttribute(req, 'change-request'), { kind: 'change-request', changeIp: true, changePort: false });
  assert.equal(getAttribute(req, 'response-port')?.port, 5062);
  assert.equal(getAttribute(req, 'padding')?.length, 9);
  clock.advance(30);
  const consumed = client.handle(answer(req, [
    XOR, { kind: 'response-origin', address: { family: 'IPv4', address: '192.0.2.11', port: 3478 } },
    { kind: 'other-address', address: { family: 'IPv4', address: '192.0.2.11', port: 3479 } }, { kind: 'software', value: 'srv' },
  ], 'success', false), { address: '192.0.2.11', port: 3478 });
  assert.equal(consumed, true);
  const r = await result;
  assert.deepEqual(r.mappedAddress, { family: 'IPv4', address: '198.51.100.1', port: 62000 });
  assert.deepEqual(r.responseOrigin, { family: 'IPv4', address: '192.0.2.11', port: 3478 });
  assert.deepEqual(r.otherAddress, { family: 'IPv4', address: '192.0.2.11', port: 3479 });
  assert.deepEqual(r.source, { address: '192.0.2.11', port: 3478 }, 'a changed-IP answer comes from elsewhere and still counts');
  assert.equal(r.software, 'srv');
  assert.equal(r.rttMs, 30);
  assert.equal(clock.pending, 0, 'the retransmission timer is cancelled');
  client.close();
});

test('handle() returns false for SIP, for STUN it has no transaction for, and for a wrong FINGERPRINT', async () => {
  const socket = new FakeSocket();
  const client = new StunClient({ socket, clock: new FakeClock() });
  const sent = socket.nextSend();
  const result = client.binding(SERVER);
  const req = await sent;
  assert.equal(client.handle(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), FROM_SERVER), false);
  const stranger = encodeStunMessage({ method: 1, class: 'success', transactionId: new Uint8Array(12), attributes: [XOR] });
  assert.equal(client.handle(stranger, FROM_SERVER), false);
  const corrupted = answer(req, [XOR]);
  corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1] as number) ^ 1;
  assert.equal(client.handle(corrupted, FROM_SERVER), false);
  assert.equal(client.handle(answer(req, [XOR]), FROM_SERVER), true);
  assert.equal((await result).mappedAddress.port, 62000);
  assert.equal(client.handle(answer(req, [XOR]), FROM_SERVER), false, 'a retransmitted answer after completion is not ours any more');
  client.close();
});

test('no answer: 7 requests, then a StunError timeout at exactly 39.5 s', async () => {
  const socket = new FakeSocket();
  const clock = new FakeClock();
  const client = new StunClient({ socket, clock });
  const sent = socket.nextSend();
  const result = client.binding(SERVER);
  await sent;
  clock.advance(39_499);
  assert.equal(socket.sent.length, 7);
  assert.equal(clock.pending, 1);
  clock.advance(1);
  await assert.rejects(result, (e: unknown) => e instanceof StunError && e.code === 'timeout' && /7 requests in 39500 ms/.test(e.message));
  assert.equal(clock.pending, 0);
  assert.equal(new Set(socket.sent.map((s) => Buffer.from(s.msg.transactionId).toString('hex'))).size, 1, 'retransmissions reuse the id');
  client.close();
});

test('an error response rejects with its STUN code and the unknown attributes of a 420', async () => {
  const socket = new FakeSocket();
  const client = new StunClient({ socket, clock: new FakeClock() });
  const sent = socket.nextSend();
  const result = client.binding(SERVER);
  const req = await sent;
  client.handle(answer(req, [{ kind: 'error-code', code: 420, reason: 'Unknown Attribute' }, { kind: 'unknown-attributes', types: [0x0003] }], 'error'), FROM_SERVER);
  await assert.rejects(result, (e: unknown) =>
    e instanceof StunError && e.code === 'error-response' && e.details.stunCode === 420 && e.details.unknownAttributes?.[0] === 3);
  client.close();
});

test('two transactions on one socket are told apart by transaction id', async () => {
  const socket = new FakeSocket();
  const client = new StunClient({ socket, clock: new FakeClock() });
  let sends = socket.nextSend();
  const first = client.binding(SERVER);
  const req1 = await sends;
  sends = socket.nextSend();
  const second = client.binding({ address: '192.0.2.20', port: 3478 });
  const req2 = await sends;
  const mapped = (port: number): StunAttribute => ({ kind: 'xor-mapped-address', address: { family: 'IPv4', address: '198.51.100.1', port } });
  assert.equal(client.handle(answer(req2, [mapped(2)]), FROM_SERVER), true);
  assert.equal(client.handle(answer(req1, [mapped(1)]), FROM_SERVER), true);
  assert.equal((await first).mappedAddress.port, 1);
  assert.equal((await second).mappedAddress.port, 2);
  client.close();
});

test('close() rejects pending bindings with closed and cancels their timers; a send error rejects with send-failed', async () => {
  const socket = new FakeSocket();
  const clock = new FakeClock();
  const client = new StunClient({ socket, clock });
  const sent = socket.nextSend();
  const pending = client.binding(SERVER);
  await sent;
  client.close();
  await assert.rejects(pending, (e: unknown) => e instanceof StunError && e.code === 'closed');
  assert.equal(clock.pending, 0);
  await assert.rejects(client.binding(SERVER), (e: unknown) => e instanceof StunError && e.code === 'closed');

  const failing = new FakeSocket();
  failing.failWith = new Error('EHOSTUNREACH');
  const c2 = new StunClient({ socket: failing, clock });
  await assert.rejects(c2.binding(SERVER), (e: unknown) => e instanceof StunError && e.code === 'send-failed' && /EHOSTUNREACH/.test(e.message));
  assert.equal(clock.pending, 0);
  c2.close();
});

test('with its own socket on loopback: the mapped address a responder reports is the client socket address', async () => {
  const responder = createSocket('udp4');
  responder.bind(0, '127.0.0.1');
  await once(responder, 'listening');
  responder.on('message', (bytes, rinfo) => {
    const req = decodeStunMessage(bytes);
    responder.send(answer(req, [{ kind: 'xor-mapped-address', address: { family: 'IPv4', address: rinfo.address, port: rinfo.port } }]), rinfo.port, rinfo.address);
  });
  const client = new StunClient({ bindAddress: '127.0.0.1' });
  try {
    const local = await client.localAddress();
    const r = await client.binding({ address: '127.0.0.1', port: responder.address().port });
    assert.deepEqual(r.mappedAddress, local);
    assert.equal(r.source.port, responder.address().port);
  } finally {
    client.close();
    responder.close();
  }
});

test('a server port node:dgram refuses fails the binding with send-failed, not a thrown TypeError', async () => {
  const clock = new FakeClock();
  const client = new StunClient({ bindAddress: '127.0.0.1', clock });
  try {
    await assert.rejects(client.binding({ address: '127.0.0.1', port: 70000 }), (e: unknown) => e instanceof StunError && e.code === 'send-failed');
    assert.equal(clock.pending, 0, 'no retransmission timer is left behind');
  } finally {
    client.close();
  }
});
