// The frame cutter turns arbitrary pipe chunks (odd lengths, split samples) into exact 10 ms frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AudioFrameCutter, bytesToPcm, pcmToBytes } from '../../../src/media/audio-frame-cutter.js';

function ramp(n: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => ((i * 263) % 65536) - 32768);
}

test('a chunk of exactly one frame yields that frame, little-endian', () => {
  const cutter = new AudioFrameCutter(4);
  const frames = cutter.push(Uint8Array.of(0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f));
  assert.deepEqual(frames.map((f) => [...f]), [[1, -1, -32768, 32767]]);
  assert.equal(cutter.pendingBytes, 0);
});

test('a sample split across chunks, one byte at a time, is reassembled', () => {
  const samples = ramp(80 * 3);
  const bytes = pcmToBytes(samples);
  const cutter = new AudioFrameCutter(80);
  const frames: Int16Array[] = [];
  for (let i = 0; i < bytes.length; i++) frames.push(...cutter.push(bytes.subarray(i, i + 1)));
  assert.equal(frames.length, 3);
  assert.deepEqual([...frames.flatMap((f) => [...f])], [...samples]);
});

test('a chunk holding several frames and a partial one keeps the partial for the next chunk', () => {
  const samples = ramp(160 * 2 + 50);
  const bytes = pcmToBytes(samples);
  const cutter = new AudioFrameCutter(160);
  const first = cutter.push(bytes.subarray(0, 160 * 2 * 2 + 33));
  assert.equal(first.length, 2);
  assert.equal(cutter.pendingBytes, 33);
  assert.deepEqual(cutter.push(bytes.subarray(160 * 2 * 2 + 33)), []);
  assert.equal(cutter.pendingBytes, 100);
});

test('any split of a stream gives the same frames as cutting it whole', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 12 }), (cuts) => {
      const samples = ramp(80 * 10);
      const bytes = pcmToBytes(samples);
      const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
      const cutter = new AudioFrameCutter(80);
      const frames: Int16Array[] = [];
      let from = 0;
      for (const p of [...points, bytes.length]) {
        frames.push(...cutter.push(bytes.subarray(from, p)));
        from = p;
      }
      assert.equal(frames.length, 10);
      assert.ok(frames.every((f) => f.length === 80));
      assert.deepEqual([...frames.flatMap((f) => [...f])], [...samples]);
    }),
  );
});

test('frames are fresh arrays: later chunks do not overwrite frames already handed out', () => {
  const cutter = new AudioFrameCutter(2);
  const [a] = cutter.push(Uint8Array.of(1, 0, 2, 0));
  cutter.push(Uint8Array.of(9, 0, 9, 0));
  assert.deepEqual([...(a ?? [])], [1, 2]);
});

test('reset() forgets a partial frame, as when a new arecord starts', () => {
  const cutter = new AudioFrameCutter(2);
  cutter.push(Uint8Array.of(7, 0, 7));
  cutter.reset();
  assert.equal(cutter.pendingBytes, 0);
  assert.deepEqual(cutter.push(Uint8Array.of(1, 0, 2, 0)).map((f) => [...f]), [[1, 2]]);
});

test('bytes and samples convert both ways; an odd trailing byte is ignored', () => {
  const samples = Int16Array.of(0, 1, -1, 12345, -32768, 32767);
  assert.deepEqual([...bytesToPcm(pcmToBytes(samples))], [...samples]);
  assert.deepEqual([...bytesToPcm(Uint8Array.of(0x34, 0x12, 0x99))], [0x1234]);
  assert.throws(() => new AudioFrameCutter(0), RangeError);
});
