// RTCP reports without I/O (RFC 3550 §6.4): SR or RR, the report block about the peer's stream,
// and the round-trip time from LSR and DLSR.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRtcp, type RtcpPacket } from '../../../src/media/index.js';
import { RtcpReporter, ntpShort, ntpTimestamp } from '../../../src/media/audio-pipeline-rtcp.js';

const OURS = 0xaaaa0001;
const PEER = 0xbbbb0002;

function parsed(bytes: Uint8Array): RtcpPacket[] {
  const p = parseRtcp(bytes);
  assert.ok(Array.isArray(p), 'a valid compound packet');
  return p;
}

test('NTP timestamps: the Unix epoch is 2208988800 s after 1900, and the short form is its middle 32 bits', () => {
  assert.deepEqual(ntpTimestamp(0), { seconds: 2_208_988_800, fraction: 0 });
  assert.deepEqual(ntpTimestamp(1500), { seconds: 2_208_988_801, fraction: 2 ** 31 });
  const t = ntpTimestamp(1_700_000_000_250);
  assert.equal(ntpShort(1_700_000_000_250), (((t.seconds & 0xffff) << 16) | (t.fraction >>> 16)) >>> 0);
});

test('sends an RR until we sent RTP, then an SR; the report block tells the peer its loss and jitter', () => {
  const r = new RtcpReporter({ ssrc: OURS, cname: 'us' });
  for (const seq of [10, 11, 12, 14, 15]) r.onRtp({ ssrc: PEER, sequenceNumber: seq, timestamp: seq * 160, arrivalMs: seq * 20 });
  const [rr] = parsed(r.report(5000, 1_700_000_000_000, { packetCount: 0, octetCount: 0, rtpTimestamp: 0 }));
  assert.equal(rr?.type, 'rr');
  const block = rr?.type === 'rr' ? rr.reports[0] : undefined;
  assert.equal(block?.ssrc, PEER);
  assert.equal(block?.cumulativeLost, 1);
  assert.equal(block?.fractionLost, Math.floor(256 / 6));
  assert.equal(block?.extendedHighestSeq, 15);
  assert.equal(block?.lastSr, 0, 'no SR from the peer yet');

  const [sr] = parsed(r.report(10_000, 1_700_000_005_000, { packetCount: 250, octetCount: 40_000, rtpTimestamp: 123_456 }));
  assert.equal(sr?.type, 'sr');
  if (sr?.type !== 'sr') return;
  const ntp = ntpTimestamp(1_700_000_005_000);
  assert.deepEqual(sr.sender, { ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: 123_456, packetCount: 250, octetCount: 40_000 });
  assert.equal(sr.reports[0]?.fractionLost, 0, 'nothing lost since the last report');
});

test('the round-trip time is A − LSR − DLSR from the peer\'s report block about our stream', () => {
  const ours = new RtcpReporter({ ssrc: OURS, cname: 'us' });
  const peer = new RtcpReporter({ ssrc: PEER, cname: 'them' });
  const wall = 1_700_000_000_000;
  ours.onRtp({ ssrc: PEER, sequenceNumber: 1, timestamp: 0, arrivalMs: 0 });
  peer.onRtp({ ssrc: OURS, sequenceNumber: 1, timestamp: 0, arrivalMs: 0 });
  // Our SR leaves at 1000 and takes 40 ms; the peer answers 250 ms later; its RR takes 40 ms back.
  const sr = ours.report(1000, wall + 1000, { packetCount: 10, octetCount: 1600, rtpTimestamp: 8000 });
  peer.receive(parsed(sr), 1040, wall + 7777); // the peer's own clocks need not agree with ours
  const rr = peer.report(1290, wall + 8027, undefined);
  assert.equal(ours.rttMs, undefined);
  ours.receive(parsed(rr), 1330, wall + 1330);
  assert.ok(Math.abs((ours.rttMs ?? 0) - 80) < 0.1, `RTT ${ours.rttMs} ms`);
  assert.deepEqual(ours.counts, { sent: 1, received: 1 });
});

test('a report block about another source, or one without LSR, measures nothing', () => {
  const ours = new RtcpReporter({ ssrc: OURS, cname: 'us' });
  const block = { fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 1, jitter: 0, delaySinceLastSr: 0 };
  ours.receive([{ type: 'rr', ssrc: PEER, reports: [{ ...block, ssrc: 0x999, lastSr: 1234 }, { ...block, ssrc: OURS, lastSr: 0 }] }], 0, 1e12);
  assert.equal(ours.rttMs, undefined);
});

test('BYE is a compound packet: RR, SDES, BYE', () => {
  const types = parsed(new RtcpReporter({ ssrc: OURS, cname: 'us' }).bye('hangup')).map((p) => p.type);
  assert.deepEqual(types, ['rr', 'sdes', 'bye']);
});
