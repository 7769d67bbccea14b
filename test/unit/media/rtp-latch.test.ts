// Latching (RFC 4961 symmetric RTP with the switch rule): the target moves only after N
// consecutive packets from one new source with the expected SSRC and a negotiated payload type.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RtpLatch, sameTransportAddress, type LatchVerdict, type TransportAddress } from '../../../src/media/rtp-latch.js';

const SDP: TransportAddress = { address: '203.0.113.5', port: 40000 };
const MOVED: TransportAddress = { address: '198.51.100.7', port: 61000 };
const STRANGER: TransportAddress = { address: '192.0.2.66', port: 5004 };
const PEER_SSRC = 0x11111111;

function latch(packetsToSwitch?: number): RtpLatch {
  return new RtpLatch({ remote: SDP, payloadTypes: [0, 101], ...(packetsToSwitch === undefined ? {} : { packetsToSwitch }) });
}

function times(n: number, f: () => LatchVerdict): LatchVerdict[] {
  return Array.from({ length: n }, f);
}

test('packets from the SDP address are accepted and teach the expected SSRC', () => {
  const l = latch();
  assert.deepEqual(l.receive(SDP, PEER_SSRC, 0), { kind: 'accept' });
  assert.equal(l.expectedSsrc, PEER_SSRC);
  assert.deepEqual(l.target, SDP);
});

test('a payload type that was not negotiated is rejected, even from the target', () => {
  const l = latch();
  assert.deepEqual(l.receive(SDP, PEER_SSRC, 8), { kind: 'reject', reason: 'payload-type' });
  assert.equal(l.expectedSsrc, undefined);
});

test('a stranger with another SSRC never moves the target, however many packets it sends', () => {
  const l = latch();
  l.receive(SDP, PEER_SSRC, 0);
  assert.deepEqual(times(20, () => l.receive(STRANGER, 0xbad, 0)), new Array(20).fill({ kind: 'reject', reason: 'ssrc' }));
  assert.deepEqual(l.target, SDP);
});

test('the peer that moves is followed on its fifth consecutive packet', () => {
  const l = latch();
  l.receive(SDP, PEER_SSRC, 0);
  const verdicts = times(5, () => l.receive(MOVED, PEER_SSRC, 0));
  assert.deepEqual(verdicts.slice(0, 4), [1, 2, 3, 4].map((count) => ({ kind: 'candidate', count })));
  assert.deepEqual(verdicts[4], { kind: 'switch', target: MOVED, previous: SDP });
  assert.deepEqual(l.target, MOVED);
  assert.deepEqual(l.receive(MOVED, PEER_SSRC, 101), { kind: 'accept' });
});

test('a packet from the current target breaks a run from elsewhere', () => {
  const l = latch();
  l.receive(SDP, PEER_SSRC, 0);
  times(4, () => l.receive(MOVED, PEER_SSRC, 0));
  l.receive(SDP, PEER_SSRC, 0);
  assert.deepEqual(l.receive(MOVED, PEER_SSRC, 0), { kind: 'candidate', count: 1 });
  l.receive(MOVED, PEER_SSRC, 0);
  assert.deepEqual(l.receive(MOVED, 0xbad, 0), { kind: 'reject', reason: 'ssrc' });
  assert.deepEqual(l.receive(MOVED, PEER_SSRC, 0), { kind: 'candidate', count: 1 });
  assert.deepEqual(l.target, SDP);
});

test('two new sources alternating with the expected SSRC never complete a run', () => {
  const l = latch();
  l.receive(SDP, PEER_SSRC, 0);
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(l.receive(i % 2 ? MOVED : STRANGER, PEER_SSRC, 0), { kind: 'candidate', count: 1 });
  }
  assert.deepEqual(l.target, SDP);
});

test('strangers with the wrong SSRC or payload type do not break a run of the moved peer', () => {
  const l = latch();
  l.receive(SDP, PEER_SSRC, 0);
  const verdicts: LatchVerdict[] = [];
  for (let i = 0; i < 5; i++) {
    verdicts.push(l.receive(MOVED, PEER_SSRC, 0));
    l.receive(STRANGER, 0xbad, 0);
    l.receive(STRANGER, PEER_SSRC, 99);
  }
  assert.equal(verdicts[4]?.kind, 'switch');
  assert.deepEqual(l.target, MOVED);
});

test('a wrong payload type or SSRC from the new source itself breaks its run', () => {
  const l = latch();
  l.receive(SDP, PEER_SSRC, 0);
  times(3, () => l.receive(MOVED, PEER_SSRC, 0));
  assert.deepEqual(l.receive(MOVED, PEER_SSRC, 8), { kind: 'reject', reason: 'payload-type' });
  assert.deepEqual(l.receive(MOVED, PEER_SSRC, 0), { kind: 'candidate', count: 1 });
  l.receive(MOVED, PEER_SSRC, 0);
  assert.deepEqual(l.receive(MOVED, 0xbad, 0), { kind: 'reject', reason: 'ssrc' });
  assert.deepEqual(l.receive(MOVED, PEER_SSRC, 0), { kind: 'candidate', count: 1 });
  assert.deepEqual(l.target, SDP);
});

test('with nothing from the SDP address (peer behind NAT), the first SSRC seen is expected and latched onto', () => {
  const l = latch();
  assert.deepEqual(times(5, () => l.receive(MOVED, PEER_SSRC, 0)).map((v) => v.kind), ['candidate', 'candidate', 'candidate', 'candidate', 'switch']);
  assert.equal(l.expectedSsrc, PEER_SSRC);
  assert.deepEqual(l.receive(STRANGER, 0xbad, 0), { kind: 'reject', reason: 'ssrc' });
});

test('an SSRC first seen from the SDP address replaces one first seen elsewhere', () => {
  const l = latch();
  l.receive(STRANGER, 0xbad, 0);
  assert.equal(l.expectedSsrc, 0xbad);
  l.receive(SDP, PEER_SSRC, 0);
  assert.equal(l.expectedSsrc, PEER_SSRC);
  assert.deepEqual(l.receive(STRANGER, 0xbad, 0), { kind: 'reject', reason: 'ssrc' });
});

test('packetsToSwitch sets the run length', () => {
  const l = latch(2);
  l.receive(SDP, PEER_SSRC, 0);
  assert.equal(l.receive(MOVED, PEER_SSRC, 0).kind, 'candidate');
  assert.equal(l.receive(MOVED, PEER_SSRC, 0).kind, 'switch');
});

test('reset() returns to the new SDP address and forgets the expected SSRC', () => {
  const l = latch();
  l.receive(SDP, PEER_SSRC, 0);
  times(5, () => l.receive(MOVED, PEER_SSRC, 0));
  l.reset(STRANGER, [8]);
  assert.deepEqual(l.target, STRANGER);
  assert.equal(l.expectedSsrc, undefined);
  assert.deepEqual(l.receive(STRANGER, 0x2222, 8), { kind: 'accept' });
  assert.equal(l.expectedSsrc, 0x2222);
});

test('an IPv4-mapped IPv6 source equals its IPv4 address, and the port matters', () => {
  assert.ok(sameTransportAddress({ address: '::ffff:203.0.113.5', port: 40000 }, SDP));
  assert.ok(!sameTransportAddress({ address: '203.0.113.5', port: 40001 }, SDP));
  assert.ok(sameTransportAddress({ address: '2001:DB8::1', port: 1 }, { address: '2001:db8::1', port: 1 }));
});

test('the current target may change its SSRC (a re-originated stream) without being rejected', () => {
  const l = latch();
  l.receive(SDP, PEER_SSRC, 0);
  assert.deepEqual(l.receive(SDP, 0x3333, 0), { kind: 'accept' });
  assert.equal(l.expectedSsrc, PEER_SSRC);
});
