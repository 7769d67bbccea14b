// The jitter buffer driven by a simulated network and playout clock: times are plain numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferOutput } from '../../../src/media/index.js';
import { mulberry32 } from '../../helpers/seeded-random.js';

const FRAME_MS = 20;
const TS_PER_FRAME = 160;

interface Send {
  /** Frame index: sequence number seq0 + index, timestamp ts0 + 160 · index. */
  readonly index: number;
  readonly arrivalMs: number;
  /** Overrides for a sender that jumps. */
  readonly seq?: number;
  readonly ts?: number;
}

/** A label per get(): the frame index it played, 'C' for conceal, '-' for silence. */
type Played = number | 'C' | '-';

interface Run {
  readonly played: Played[];
  readonly jb: JitterBuffer;
}

/**
 * Delivers `sends` in arrival order and calls get() every 20 ms from `firstGetMs` for `gets`
 * periods; packets arriving at or before a tick are put before it.
 */
function simulate(sends: readonly Send[], gets: number, opts: JitterBufferOptions = {}, seq0 = 1000, ts0 = 50_000, firstGetMs = 5): Run {
  const jb = new JitterBuffer(opts);
  const ordered = [...sends].sort((a, b) => a.arrivalMs - b.arrivalMs);
  const played: Played[] = [];
  let next = 0;
  for (let k = 0; k < gets; k++) {
    const now = firstGetMs + k * FRAME_MS;
    for (; next < ordered.length && (ordered[next] as Send).arrivalMs <= now; next++) put(jb, ordered[next] as Send, seq0, ts0);
    played.push(label(jb.get(now)));
  }
  return { played, jb };
}

function put(jb: JitterBuffer, s: Send, seq0: number, ts0: number): string {
  return jb.put({
    sequenceNumber: (s.seq ?? seq0 + s.index) & 0xffff,
    timestamp: (s.ts ?? ts0 + s.index * TS_PER_FRAME) >>> 0,
    payload: Uint8Array.of(s.index & 0xff, s.index >> 8),
    arrivalMs: s.arrivalMs,
  });
}

function label(out: JitterBufferOutput): Played {
  if (out.kind === 'frame') return (out.payload[0] as number) | ((out.payload[1] as number) << 8);
  return out.kind === 'conceal' ? 'C' : '-';
}

/** Frames 0..n−1 sent every 20 ms, each arriving `delayMs(i)` after it was sent. */
function stream(n: number, delayMs: (i: number) => number, skip: readonly number[] = []): Send[] {
  return Array.from({ length: n }, (_, i) => ({ index: i, arrivalMs: i * FRAME_MS + delayMs(i) })).filter((s) => !skip.includes(s.index));
}

const FIXED_40: JitterBufferOptions = { minDelayMs: 40, maxDelayMs: 40, initialDelayMs: 40 };
const frames = (r: Run): number[] => r.played.filter((p): p is number => typeof p === 'number');
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

test('returns silence until the target delay has built up, then plays an in-order stream frame by frame', () => {
  const r = simulate(stream(100, () => 30), 100, FIXED_40);
  // Frame 0 arrives at 30 ms; at 65 ms it has waited 35 ms ≥ target − ½ frame, so playout starts.
  assert.deepEqual(r.played.slice(0, 5), ['-', '-', '-', 0, 1]);
  assert.deepEqual(frames(r), range(0, 97));
  const s = r.jb.stats;
  // Frames 98 and 99 arrive after the last tick.
  assert.deepEqual([s.received, s.lost, s.late, s.concealed, s.duplicates, s.dropped, s.inserted], [98, 0, 0, 0, 0, 0, 0]);
  assert.equal(s.currentDelayMs, 35);
  assert.equal(s.targetDelayMs, 40);
});

test('puts reordered packets back in sequence', () => {
  // Odd frames overtake the even ones before them by 10 ms.
  const r = simulate(stream(60, (i) => (i % 2 === 0 ? 45 : 15)), 60, FIXED_40);
  assert.deepEqual(frames(r), range(0, 57));
  assert.equal(r.played.filter((p) => p === 'C').length, 0);
  assert.deepEqual([r.jb.stats.late, r.jb.stats.lost], [0, 0]);
});

test('drops and counts duplicates, whether the original is still buffered or already played', () => {
  const sends = stream(50, () => 30);
  const dups = [...sends.map((s) => ({ ...s, arrivalMs: s.arrivalMs + 3 })), { index: 2, arrivalMs: 500 }];
  const r = simulate([...sends, ...dups], 52, FIXED_40);
  assert.deepEqual(frames(r), range(0, 49));
  assert.deepEqual([r.jb.stats.received, r.jb.stats.duplicates, r.jb.stats.late], [101, 51, 0]);
});

test('a packet that arrives after its playout time is counted late, not lost, and never played', () => {
  const sends = stream(40, (i) => (i === 10 ? 250 : 30));
  const r = simulate(sends, 40, FIXED_40);
  assert.equal(r.played[13], 'C', 'frame 10 is due at the 14th tick');
  assert.deepEqual(frames(r), range(0, 37).filter((i) => i !== 10));
  const s = r.jb.stats;
  assert.deepEqual([s.late, s.lost, s.concealed], [1, 0, 1]);
});

test('a packet that never arrives is concealed in its slot and counted lost', () => {
  const r = simulate(stream(40, () => 30, [5, 6]), 40, FIXED_40);
  assert.deepEqual(r.played.slice(3, 12), [0, 1, 2, 3, 4, 'C', 'C', 7, 8]);
  assert.deepEqual([r.jb.stats.lost, r.jb.stats.concealed, r.jb.stats.late], [2, 2, 0]);
});

test('plays straight through sequence number and timestamp wrap-around', () => {
  const r = simulate(stream(30, (i) => (i % 3 === 1 ? 45 : 25)), 30, FIXED_40, 65_530, 0x1_0000_0000 - 3 * TS_PER_FRAME);
  assert.deepEqual(frames(r), range(0, 27));
  assert.deepEqual([r.jb.stats.lost, r.jb.stats.late, r.jb.stats.discarded], [0, 0, 0]);
});

test('the target delay rises within a second when jitter starts and falls back only over seconds', () => {
  const rand = mulberry32(7);
  const jitterFrom = 500;
  const jitterTo = 650; // 3 s of jitter, uniform 0..100 ms
  const sends = stream(1500, (i) => 30 + (i >= jitterFrom && i < jitterTo ? 100 * rand() : 0));
  const targetAt = (gets: number): number => simulate(sends, gets).jb.stats.targetDelayMs;
  assert.ok(targetAt(jitterFrom) < 22, `steady stream: ${targetAt(jitterFrom)} ms`);
  assert.ok(targetAt(jitterFrom + 50) > 70, `1 s into the jitter: ${targetAt(jitterFrom + 50)} ms`);
  const peak = targetAt(jitterTo);
  assert.ok(peak > 70 && peak <= 200, `end of the jitter: ${peak} ms`);
  assert.ok(targetAt(jitterTo + 50) > 0.6 * peak, `1 s after: ${targetAt(jitterTo + 50)} ms`);
  assert.ok(targetAt(1500) < 25, `17 s after: ${targetAt(1500)} ms`);
  const end = simulate(sends, 1500).jb.stats;
  assert.ok(Math.abs(end.currentDelayMs - end.targetDelayMs) <= FRAME_MS / 2 + 1, `delay ${end.currentDelayMs} vs target ${end.targetDelayMs}`);
});

test('the played delay follows a rising target by inserting concealment, so later packets are not late', () => {
  const rand = mulberry32(11);
  const sends = stream(1000, (i) => 30 + (i >= 300 ? 60 * rand() : 0));
  const r = simulate(sends, 1000);
  const s = r.jb.stats;
  assert.ok(s.inserted >= 2, `inserted ${s.inserted}`);
  assert.ok(s.late <= 10, `late ${s.late} of 700 jittered packets`);
  assert.equal(s.lost, 0);
});

test('clock drift: a sender 0.5 % fast fills the buffer, and one frame is dropped per 20 ms gained', () => {
  const r = simulate(stream(3000, (i) => 30 - i * 0.1), 2990, { minDelayMs: 60, maxDelayMs: 60, initialDelayMs: 60 });
  const s = r.jb.stats;
  // 3000 frames 0.1 ms early each: 300 ms gained, 15 frames, less the ½-frame hysteresis.
  assert.ok(s.dropped >= 13 && s.dropped <= 15, `dropped ${s.dropped}`);
  assert.deepEqual([s.late, s.lost, s.concealed, s.inserted], [0, 0, 0, 0]);
  assert.ok(s.currentDelayMs <= 60 + FRAME_MS / 2, `delay ${s.currentDelayMs}`);
});

test('clock drift: a sender 0.5 % slow drains the buffer, and a frame is concealed per 20 ms lost', () => {
  const r = simulate(stream(3000, (i) => 30 + i * 0.1), 3000, { minDelayMs: 60, maxDelayMs: 60, initialDelayMs: 60 });
  const s = r.jb.stats;
  assert.ok(s.inserted >= 13 && s.inserted <= 15, `inserted ${s.inserted}`);
  assert.deepEqual([s.late, s.lost, s.dropped], [0, 0, 0]);
  assert.equal(s.concealed, s.inserted);
  assert.ok(s.currentDelayMs >= 60 - FRAME_MS / 2, `delay ${s.currentDelayMs}`);
});

test('shrinks the delay on quiet frames at once, and on speech only once per hold time', () => {
  // No jitter: the target falls from 200 ms towards 20 ms over a few seconds.
  const opts: JitterBufferOptions = { initialDelayMs: 200 };
  const loud = simulate(stream(150, () => 30), 150, opts).jb.stats;
  const quiet = simulate(stream(150, () => 30), 150, { ...opts, isQuiet: () => true }).jb.stats;
  assert.ok(loud.dropped <= 3, `speech: ${loud.dropped} drops in 3 s`);
  assert.ok(loud.currentDelayMs > loud.targetDelayMs + 30, `speech lags: ${loud.currentDelayMs} vs ${loud.targetDelayMs}`);
  assert.ok(quiet.dropped > loud.dropped + 3, `quiet: ${quiet.dropped} drops`);
  assert.ok(quiet.currentDelayMs <= quiet.targetDelayMs + FRAME_MS / 2, `quiet follows: ${quiet.currentDelayMs} vs ${quiet.targetDelayMs}`);
});

test('a flood of packets far from the stream is discarded without disturbing it', () => {
  const rand = mulberry32(3);
  const flood: Send[] = Array.from({ length: 10_000 }, (_, k) => ({
    index: 0,
    arrivalMs: 200 + k * 0.05,
    seq: Math.floor(rand() * 0x10000),
    ts: Math.floor(rand() * 0x1_0000_0000),
  }));
  const r = simulate([...stream(100, () => 30), ...flood], 100, FIXED_40);
  assert.deepEqual(frames(r), range(0, 97));
  assert.ok(r.jb.stats.discarded >= 9_990, `discarded ${r.jb.stats.discarded}`);
  assert.ok(r.jb.stats.bufferedFrames <= 4);
});

test('memory stays bounded by maxFrames under a flood of packets inside the window', () => {
  const jb = new JitterBuffer({ ...FIXED_40, maxFrames: 12 });
  const rand = mulberry32(5);
  let most = 0;
  for (let k = 0; k < 5_000; k++) {
    jb.put({ sequenceNumber: k & 0xffff, timestamp: 1_000 + Math.floor(rand() * 12 * TS_PER_FRAME), payload: new Uint8Array(160), arrivalMs: k });
    if (k % 10 === 0) jb.get(k);
    most = Math.max(most, jb.stats.bufferedFrames);
  }
  assert.equal(most, 12);
  const s = jb.stats;
  assert.equal(s.received, 5_000);
  assert.ok(s.discarded > 1_000, `discarded ${s.discarded}`);
});

test('follows a sender that restarts its sequence and timestamps after eight packets in step', () => {
  const before = stream(50, () => 30);
  const after = Array.from({ length: 50 }, (_, k) => ({ index: 500 + k, arrivalMs: (50 + k) * FRAME_MS + 30, seq: 7 + k, ts: 123_456 + k * TS_PER_FRAME }));
  const r = simulate([...before, ...after], 100, FIXED_40);
  const played = frames(r);
  assert.deepEqual(played.slice(0, 50), range(0, 50));
  // 7 packets of the new stream are discarded; the 8th restarts it, played once it has waited long enough.
  assert.equal(r.jb.stats.discarded, 7);
  assert.deepEqual(played.slice(50), range(507, 547));
  assert.deepEqual(r.played.slice(53, 61), ['C', 'C', 'C', 'C', 'C', 'C', '-', 507]);
});

test('a sender silence (timestamp jump, next sequence number) plays as silence and is not counted lost', () => {
  // Frames 0..9, then 3 s of silence: the packet after frame 9 carries the timestamp of frame 160.
  const sends: Send[] = [
    ...stream(10, () => 30),
    ...Array.from({ length: 10 }, (_, k) => ({ index: 160 + k, arrivalMs: (160 + k) * FRAME_MS + 30, seq: 1010 + k })),
  ];
  const r = simulate(sends, 173, FIXED_40);
  assert.deepEqual(frames(r), [...range(0, 10), ...range(160, 170)]);
  const gap = r.played.slice(13, 163);
  // Until the next packet arrives the gap cannot be told from a loss and is concealed.
  assert.ok(gap.every((p) => p === 'C' || p === '-'));
  assert.equal(gap.at(-1), '-', 'once the next packet is in, the rest of the gap is silence');
  assert.equal(r.jb.stats.lost, 0);
  assert.ok(r.jb.stats.concealed > 140, `concealed ${r.jb.stats.concealed}`);
});

test('rejects a frame length that is not a whole number of timestamp units', () => {
  assert.throws(() => new JitterBuffer({ frameMs: 0.1, clockRateHz: 8000 }), RangeError);
  assert.throws(() => new JitterBuffer({ maxFrames: 1 }), RangeError);
});
