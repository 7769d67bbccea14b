// RFC 3550 A.1 (sequence validation, extended sequence numbers), A.3 (loss) and A.8 (jitter),
// driven with explicit sequence numbers, timestamps and arrival times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RtpReceptionStats, type SequenceVerdict } from '../../../src/media/rtp-reception-stats.js';

/** Feeds sequence numbers 20 ms apart with matching 8 kHz timestamps; returns the verdicts. */
function feed(stats: RtpReceptionStats, seqs: readonly number[]): SequenceVerdict[] {
  return seqs.map((seq, i) => stats.receive(seq, (seq * 160) >>> 0, i * 20));
}

test('the first packet is on probation and the second in sequence validates the source', () => {
  const stats = new RtpReceptionStats(8000);
  assert.deepEqual(feed(stats, [1000, 1001, 1002]), ['probation', 'valid', 'valid']);
  assert.deepEqual(
    { ...stats.snapshot(), jitter: 0 },
    { received: 3, expected: 3, lost: 0, duplicates: 0, extendedHighestSeq: 1002, jitter: 0 },
  );
});

test('a second packet out of sequence restarts probation instead of validating', () => {
  const stats = new RtpReceptionStats(8000);
  assert.deepEqual(feed(stats, [10, 50, 51, 52]), ['probation', 'probation', 'valid', 'valid']);
  assert.equal(stats.snapshot().received, 3);
  assert.equal(stats.snapshot().expected, 3);
});

test('counts sequence gaps as lost', () => {
  const stats = new RtpReceptionStats(8000);
  feed(stats, [100, 101, 102, 105, 106, 110]);
  assert.deepEqual({ ...stats.snapshot(), jitter: 0 }, { received: 6, expected: 11, lost: 5, duplicates: 0, extendedHighestSeq: 110, jitter: 0 });
});

test('extends the sequence number across the 16-bit wrap', () => {
  const stats = new RtpReceptionStats(8000);
  assert.deepEqual(feed(stats, [65533, 65534, 65535, 0, 1, 2]), ['probation', 'valid', 'valid', 'valid', 'valid', 'valid']);
  const s = stats.snapshot();
  assert.equal(s.extendedHighestSeq, 65536 + 2);
  assert.equal(s.expected, 6);
  assert.equal(s.lost, 0);
});

test('a packet reordered across the wrap lands in the previous cycle and fills its gap', () => {
  const stats = new RtpReceptionStats(8000);
  feed(stats, [65533, 65534, 0, 65535, 1]);
  const s = stats.snapshot();
  assert.equal(s.extendedHighestSeq, 65537);
  assert.equal(s.lost, 0);
  assert.equal(s.duplicates, 0);
});

test('tells duplicates from reordered packets, counting them apart and not as received', () => {
  const stats = new RtpReceptionStats(8000);
  assert.deepEqual(feed(stats, [10, 11, 13, 12, 12, 13, 11]), ['probation', 'valid', 'valid', 'valid', 'duplicate', 'duplicate', 'duplicate']);
  const s = stats.snapshot();
  assert.equal(s.received, 4);
  assert.equal(s.duplicates, 3);
  assert.equal(s.lost, 0);
});

test('one packet far out of sequence is dropped, and the stream goes on', () => {
  const stats = new RtpReceptionStats(8000);
  assert.deepEqual(feed(stats, [10, 11, 12, 40000, 13]), ['probation', 'valid', 'valid', 'jump', 'valid']);
  assert.equal(stats.snapshot().lost, 0);
  assert.equal(stats.snapshot().extendedHighestSeq, 13);
});

test('two sequential packets after a jump mean the sender restarted: re-sync, keeping earlier counts', () => {
  const stats = new RtpReceptionStats(8000);
  assert.deepEqual(feed(stats, [10, 11, 12, 14, 40000, 40001, 40002]), ['probation', 'valid', 'valid', 'valid', 'jump', 'restart', 'valid']);
  const s = stats.snapshot();
  assert.equal(s.received, 6);
  assert.equal(s.expected, 5 + 2);
  assert.equal(s.lost, 1);
  assert.equal(s.extendedHighestSeq, 40002);
});

test('jitter stays at zero when packets arrive exactly as their timestamps advance', () => {
  const stats = new RtpReceptionStats(8000);
  for (let i = 0; i < 50; i++) stats.receive(i, 1000 + i * 160, 5000 + i * 20);
  assert.equal(stats.jitterMs, 0);
});

test('jitter follows the A.8 recursion J += (|D| − J)/16 and converges to the transit variation', () => {
  const stats = new RtpReceptionStats(8000);
  // Arrivals alternate 30 ms and 10 ms apart while timestamps step 20 ms: |D| = 10 ms = 80 units.
  let arrival = 0;
  for (let i = 0; i < 400; i++) {
    stats.receive(i, i * 160, arrival);
    if (i === 1) assert.equal(stats.snapshot().jitter, 80 / 16);
    if (i === 2) assert.equal(stats.snapshot().jitter, 5 + (80 - 5) / 16);
    arrival += i % 2 === 0 ? 30 : 10;
  }
  assert.ok(Math.abs(stats.jitterMs - 10) < 1e-6, `jitter ${stats.jitterMs} ms`);
});

test('a timestamp wrap past 2^32 is a normal step for the jitter', () => {
  const stats = new RtpReceptionStats(8000);
  const base = 2 ** 32 - 320;
  for (let i = 0; i < 10; i++) stats.receive(i, (base + i * 160) >>> 0, i * 20);
  assert.equal(stats.jitterMs, 0);
});

test('jitter is reported in ms for the given clock rate', () => {
  const stats = new RtpReceptionStats(48000);
  stats.receive(0, 0, 0);
  stats.receive(1, 960, 36); // 16 ms late: |D| = 768 units
  assert.equal(stats.snapshot().jitter, 768 / 16);
  assert.equal(stats.jitterMs, 1);
});
