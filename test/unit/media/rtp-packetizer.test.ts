// The sending state of an RTP stream: sequence number and timestamp advance and wrap (RFC 3550 §5.1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RtpError, decodeRtp, type RtpPacket } from '../../../src/media/index.js';
import { RtpPacketizer, randomStreamStart } from '../../../src/media/rtp-packetizer.js';

function header(bytes: Uint8Array): Omit<RtpPacket, 'payload' | 'csrcs' | 'paddingBytes'> {
  const p = decodeRtp(bytes);
  if (p instanceof RtpError) assert.fail(p.message);
  return { marker: p.marker, payloadType: p.payloadType, sequenceNumber: p.sequenceNumber, timestamp: p.timestamp, ssrc: p.ssrc };
}

test('sequence number wraps 65535 → 0 and the timestamp wraps modulo 2^32', () => {
  const pz = new RtpPacketizer({ ssrc: 7, sequenceNumber: 65535, timestamp: 2 ** 32 - 160 }, 0);
  const frame = new Uint8Array(160);
  assert.deepEqual([1, 2, 3].map(() => header(pz.packetize(frame, 160))), [
    { marker: false, payloadType: 0, sequenceNumber: 65535, timestamp: 2 ** 32 - 160, ssrc: 7 },
    { marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 7 },
    { marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 160, ssrc: 7 },
  ]);
  assert.equal(pz.packetCount, 3);
  assert.equal(pz.octetCount, 480);
});

test('the marker and payload type are written as given', () => {
  const pz = new RtpPacketizer({ ssrc: 1, sequenceNumber: 0, timestamp: 0 }, 8);
  assert.deepEqual(header(pz.packetize(new Uint8Array(1), 160, true)), { marker: true, payloadType: 8, sequenceNumber: 0, timestamp: 0, ssrc: 1 });
});

test('advanceTimestamp moves only the timestamp, for time without packets', () => {
  const pz = new RtpPacketizer({ ssrc: 1, sequenceNumber: 10, timestamp: 0 }, 0);
  pz.advanceTimestamp(480);
  assert.equal(pz.nextTimestamp, 480);
  assert.equal(pz.nextSequenceNumber, 10);
  assert.equal(header(pz.packetize(new Uint8Array(1), 160)).timestamp, 480);
});

test('refuses negative or fractional sample counts and payload types outside 0..127, changing nothing', () => {
  const pz = new RtpPacketizer({ ssrc: 1, sequenceNumber: 10, timestamp: 0 }, 0);
  assert.throws(() => pz.packetize(new Uint8Array(1), -1), RtpError);
  assert.throws(() => pz.advanceTimestamp(0.5), RtpError);
  assert.equal(pz.nextSequenceNumber, 10);
  assert.equal(pz.packetCount, 0);
  assert.throws(() => new RtpPacketizer({ ssrc: 1, sequenceNumber: 0, timestamp: 0 }, 128), RtpError);
});

test('random stream starts are in range and differ between streams', () => {
  const starts = Array.from({ length: 8 }, randomStreamStart);
  for (const s of starts) {
    assert.ok(Number.isInteger(s.ssrc) && s.ssrc >= 0 && s.ssrc <= 0xffffffff);
    assert.ok(Number.isInteger(s.sequenceNumber) && s.sequenceNumber >= 0 && s.sequenceNumber <= 0xffff);
    assert.ok(Number.isInteger(s.timestamp) && s.timestamp >= 0 && s.timestamp <= 0xffffffff);
  }
  assert.equal(new Set(starts.map((s) => s.ssrc)).size, 8);
});
