// The STUN client against a real coturn on loopback (127.0.0.1 primary, 127.0.0.2 alternate):
// our socket's address comes back as XOR-MAPPED-ADDRESS, and CHANGE-REQUEST answers come from the
// address and port RFC 5780 says, named by RESPONSE-ORIGIN and OTHER-ADDRESS.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import {
  BindingTransaction, StunClient, decodeStunMessage, getAttribute, isStun, newTransactionId, verifyFingerprint,
  type BindingOutcome, type StunAddress,
} from '../../src/nat/stun/index.js';
import { useCoturn, type Coturn } from './lib/coturn.js';

const coturnLab = useCoturn();
let coturn: Coturn;
let client: StunClient;
let local: StunAddress;
const sockets: Socket[] = [];

const v4 = (address: string, port: number): StunAddress => ({ family: 'IPv4', address, port });

async function udpSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

// Loopback answers in microseconds: a 100 ms RTO still gives 7 sends, and a dead server fails in 7.9 s.
const RTO_MS = 100;

before(async () => {
  coturn = await coturnLab();
  client = new StunClient({ bindAddress: '127.0.0.1', software: 'deskphone-agent lab', rtoMs: RTO_MS });
  const a = await client.localAddress();
  assert.ok(a);
  local = a;
});

after(() => {
  client?.close();
  for (const s of sockets) s.close();
});

test('a Binding request comes back with our socket address as XOR-MAPPED-ADDRESS (and MAPPED-ADDRESS)', async () => {
  const r = await client.binding(coturn.primary);
  assert.deepEqual(r.mappedAddress, local);
  assert.deepEqual(getAttribute(r.response, 'xor-mapped-address')?.address, local);
  assert.deepEqual(getAttribute(r.response, 'mapped-address')?.address, local);
  assert.deepEqual(r.source, coturn.primary);
  assert.match(r.software ?? '', /^Coturn-/);
  assert.equal(verifyFingerprint(r.response), true, 'coturn answers a fingerprinted request with FINGERPRINT');
});

test('RESPONSE-ORIGIN names the primary address and OTHER-ADDRESS the alternate IP and port', async () => {
  const r = await client.binding(coturn.primary);
  assert.deepEqual(r.responseOrigin, v4(coturn.primary.address, coturn.primary.port));
  assert.deepEqual(r.otherAddress, v4(coturn.alternate.address, coturn.alternate.port));
});

test('CHANGE-REQUEST change port: the answer comes from the alternate port of the same IP', async () => {
  const r = await client.binding(coturn.primary, { changePort: true });
  assert.deepEqual(r.source, { address: coturn.primary.address, port: coturn.alternate.port });
  assert.deepEqual(r.responseOrigin, v4(coturn.primary.address, coturn.alternate.port));
  assert.deepEqual(r.mappedAddress, local);
});

test('CHANGE-REQUEST change IP: the answer comes from the other IP, same port', async () => {
  const r = await client.binding(coturn.primary, { changeIp: true });
  assert.deepEqual(r.source, { address: coturn.alternate.address, port: coturn.primary.port });
  assert.deepEqual(r.responseOrigin, v4(coturn.alternate.address, coturn.primary.port));
  assert.deepEqual(r.mappedAddress, local);
});

test('CHANGE-REQUEST change IP and port: the answer comes from exactly OTHER-ADDRESS', async () => {
  const r = await client.binding(coturn.primary, { changeIp: true, changePort: true });
  assert.ok(r.otherAddress);
  assert.deepEqual(r.source, { address: r.otherAddress.address, port: r.otherAddress.port });
  assert.deepEqual(r.responseOrigin, r.otherAddress);
  assert.equal(getAttribute(r.response, 'fingerprint'), undefined, 'coturn 4.6.1 leaves FINGERPRINT out of changed-address answers');
});

test('on a socket the client does not own, STUN answers are consumed and everything else stays with the owner', async () => {
  const owned = await udpSocket();
  const shared = new StunClient({ socket: owned, rtoMs: RTO_MS });
  const forOwner: string[] = [];
  const gotSip = new Promise<void>((resolve) => {
    owned.on('message', (bytes, rinfo) => {
      if (shared.handle(bytes, rinfo)) return;
      forOwner.push(bytes.toString('latin1'));
      if (!isStun(bytes)) resolve();
    });
  });
  const sipPeer = await udpSocket();
  sipPeer.send('OPTIONS sip:phone@127.0.0.1 SIP/2.0\r\n\r\n', owned.address().port, '127.0.0.1');
  await gotSip;
  const r = await shared.binding(coturn.primary);
  assert.deepEqual(r.mappedAddress, v4('127.0.0.1', owned.address().port));
  assert.deepEqual(forOwner, ['OPTIONS sip:phone@127.0.0.1 SIP/2.0\r\n\r\n']);
  shared.close();
  assert.equal(owned.address().port > 0, true, 'closing the client leaves the shared socket open');
});

test('RESPONSE-PORT: coturn answers at the port we name, and reports the port we sent from', async () => {
  const sender = await udpSocket();
  const receiver = await udpSocket();
  const shared = new StunClient({ socket: sender, rtoMs: RTO_MS });
  const consumedBy: string[] = [];
  sender.on('message', (b, r) => shared.handle(b, r) && consumedBy.push('sender'));
  receiver.on('message', (b, r) => shared.handle(b, r) && consumedBy.push('receiver'));
  const r = await shared.binding(coturn.primary, { responsePort: receiver.address().port });
  assert.deepEqual(r.mappedAddress, v4('127.0.0.1', sender.address().port));
  assert.deepEqual(consumedBy, ['receiver']);
  shared.close();
});

test('PADDING: coturn pads its answer too (to 1500 bytes, whatever the request carried)', async () => {
  const r = await client.binding(coturn.primary, { padding: 101 });
  assert.equal(getAttribute(r.response, 'padding')?.length, 1500);
  assert.ok(r.response.bytes.length > 1500);
  assert.deepEqual(r.mappedAddress, local);
});

test('an unknown comprehension-required attribute gets 420 with UNKNOWN-ATTRIBUTES naming it', { timeout: 5000 }, async () => {
  const sock = await udpSocket();
  const tx = new BindingTransaction({
    request: { method: 1, class: 'request', transactionId: newTransactionId(), attributes: [{ kind: 'raw', type: 0x7777, value: new Uint8Array(4) }] },
  });
  const outcome = new Promise<BindingOutcome>((resolve) => {
    sock.on('message', (bytes) => {
      for (const a of tx.receive(decodeStunMessage(bytes), performance.now())) if (a.kind === 'done') resolve(a.outcome);
    });
  });
  // Loopback does not lose datagrams: the first send is enough, retransmissions are not driven here.
  for (const a of tx.start(performance.now())) if (a.kind === 'send') sock.send(a.bytes, coturn.primary.port, coturn.primary.address);
  const o = await outcome;
  assert.equal(o.kind, 'error-response');
  assert.ok(o.kind === 'error-response');
  assert.equal(o.code, 420);
  assert.deepEqual(o.unknownAttributes, [0x7777]);
  assert.match(o.reason, /^Unknown Attribute/, 'coturn pads the reason phrase with NUL bytes inside the attribute');
});
