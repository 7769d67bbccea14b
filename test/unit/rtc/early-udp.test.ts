import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRtp, parseRtcp, RtpError } from '../../../src/media/index.js';
import { EarlyUdp, earlyUdpTarget, planEarlyUdp, unusedPayloadType, type EarlyUdpTarget } from '../../../src/rtc/early-udp.js';
import type { Negotiated } from '../../../src/sdp/index.js';
import { FakeClock } from '../../../src/util/index.js';

const far: EarlyUdpTarget = { rtp: { address: '198.51.100.7', port: 30000 }, rtcp: { address: '198.51.100.7', port: 30001 }, payloadTypes: [8, 101] };

test('three RTP packets 20 ms apart to the RTP port, each with an empty RTCP RR to the RTCP port', () => {
  const sends = planEarlyUdp(far, { ssrc: 0xdeadbeef, sequenceStart: 65534 });
  assert.deepEqual(sends.map((s) => `${s.atMs} ${s.to.port}`), ['0 30000', '0 30001', '20 30000', '20 30001', '40 30000', '40 30001']);
  assert.equal((sends[0]?.bytes[0] ?? 0) >> 6, 2, 'RTP version 2');
  const rtp = sends.filter((s) => s.to.port === 30000).map((s) => decodeRtp(s.bytes));
  for (const p of rtp) {
    assert.ok(!(p instanceof RtpError));
    assert.equal(p.ssrc, 0xdeadbeef);
    assert.equal(p.payload.length, 0, 'nothing to play');
    assert.equal(p.payloadType, 127, 'a payload type the session does not use (RFC 6263 §4.6)');
  }
  assert.deepEqual(rtp.map((p) => (p instanceof RtpError ? -1 : p.sequenceNumber)), [65534, 65535, 0], 'sequence numbers follow on and wrap');
  const rr = parseRtcp(sends[1]?.bytes ?? new Uint8Array());
  assert.deepEqual(rr, [{ type: 'rr', ssrc: 0xdeadbeef, reports: [] }]);
  assert.equal(sends[1]?.bytes.length, 8, 'an RR with no report blocks is 8 bytes');
});

test('with rtcp-mux only the RTP packets go, to the one port', () => {
  const sends = planEarlyUdp({ ...far, rtcp: far.rtp }, { ssrc: 1, sequenceStart: 0, count: 2, intervalMs: 10 });
  assert.deepEqual(sends.map((s) => `${s.atMs} ${s.to.port}`), ['0 30000', '10 30000']);
});

test('the payload type is a dynamic one not negotiated', () => {
  assert.equal(unusedPayloadType([0, 101]), 127);
  assert.equal(unusedPayloadType([127, 126, 8]), 125);
  assert.throws(() => unusedPayloadType(Array.from({ length: 32 }, (_, i) => 96 + i)), RangeError);
});

test('the target comes from the negotiated SDP: RTCP on the RTP port when multiplexed', () => {
  const n = {
    codec: { name: 'PCMA', payloadType: 8, clockRateHz: 8000 }, telephoneEventPt: 101, remoteAddress: '198.51.100.7', remoteRtpPort: 30000,
    remoteRtcpAddress: '198.51.100.8', remoteRtcpPort: 30005, rtcpMux: false, localDirection: 'sendrecv', remoteDirection: 'sendrecv', ptimeMs: 20,
  } as unknown as Negotiated;
  assert.deepEqual(earlyUdpTarget(n), { rtp: { address: '198.51.100.7', port: 30000 }, rtcp: { address: '198.51.100.8', port: 30005 }, payloadTypes: [8, 101] });
  assert.deepEqual(earlyUdpTarget({ ...n, rtcpMux: true }).rtcp, { address: '198.51.100.7', port: 30000 });
});

test('the driver sends the burst on the clock, once per far-end address, and nothing after close', () => {
  const clock = new FakeClock(0);
  const sent: string[] = [];
  const e = new EarlyUdp({ clock, ssrc: 7, send: (_bytes, to) => sent.push(`${clock.now()} ${to.address}:${to.port}`) });
  assert.equal(e.open(far), true);
  assert.deepEqual(sent, ['0 198.51.100.7:30000', '0 198.51.100.7:30001']);
  clock.advance(100);
  assert.equal(sent.length, 6);
  assert.equal(e.open({ ...far, payloadTypes: [0] }), false, 'the same address (183, then the 200) is not opened twice');
  assert.equal(e.open({ ...far, rtp: { address: '198.51.100.9', port: 40000 }, rtcp: { address: '198.51.100.9', port: 40000 } }), true, 'a new address is');
  assert.equal(sent.length, 7);
  e.close();
  clock.advance(100);
  assert.equal(sent.length, 7, 'timers die with the session');
  assert.equal(clock.pending, 0);
  assert.equal(e.open(far), false);
});
