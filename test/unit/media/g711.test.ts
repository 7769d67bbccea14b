// G.711 against the reference algorithm (Sun g711.c, as also used by CPython's audioop):
// the 256 decode values from G.711's reconstruction formulae, spot values from the tables,
// round trips, monotonic tables, and the encoder over every 16-bit input.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  alawToLinear, decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw, linearToAlaw, linearToUlaw, ulawToLinear,
} from '../../../src/media/index.js';

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

// G.711 Table 2 (µ-law): code bits are inverted on the wire; with sign s, segment e and step m,
// the decoder output is ±(((2m + 33) << e) − 33), here scaled ×4 to 16 bits.
function ituUlaw(code: number): number {
  const u = ~code & 0xff;
  const magnitude = 4 * (((2 * (u & 0x0f) + 33) << ((u >> 4) & 7)) - 33);
  return u & 0x80 ? 0 - magnitude : magnitude;
}

// G.711 Table 1 (A-law): even bits inverted (XOR 0x55); segment 0 is linear, ±(2m + 1), segment
// e ≥ 1 is ±((2m + 33) << (e − 1)); here scaled ×8 to 16 bits. Sign bit 1 means positive.
function ituAlaw(code: number): number {
  const a = code ^ 0x55;
  const m = a & 0x0f;
  const e = (a >> 4) & 7;
  const magnitude = 8 * (e === 0 ? 2 * m + 1 : (2 * m + 33) << (e - 1));
  return a & 0x80 ? magnitude : -magnitude;
}

test('every µ-law code decodes to its G.711 reconstruction value', () => {
  for (const c of ALL_CODES) assert.equal(ulawToLinear(c), ituUlaw(c), `code 0x${c.toString(16)}`);
  assert.deepEqual([...decodeUlaw(ALL_CODES)], [...ALL_CODES].map(ituUlaw));
});

test('every A-law code decodes to its G.711 reconstruction value', () => {
  for (const c of ALL_CODES) assert.equal(alawToLinear(c), ituAlaw(c), `code 0x${c.toString(16)}`);
  assert.deepEqual([...decodeAlaw(ALL_CODES)], [...ALL_CODES].map(ituAlaw));
});

test('µ-law decodes the table ends: 0x00 → −32124, 0x7F → 0, 0x80 → 32124, 0xFF → 0', () => {
  assert.deepEqual([0x00, 0x7f, 0x80, 0xff, 0x7e, 0xfe].map(ulawToLinear), [-32124, 0, 32124, 0, -8, 8]);
});

test('A-law decodes 0xD5 → 8, 0x55 → −8, 0x2A → −32256, 0xAA → 32256, 0x80 → 5504, 0x00 → −5504', () => {
  assert.deepEqual([0xd5, 0x55, 0x2a, 0xaa, 0x80, 0x00].map(alawToLinear), [8, -8, -32256, 32256, 5504, -5504]);
});

test('the decode tables are the ones the reference produces (SHA-256 of the little-endian table)', () => {
  const sha = (a: Int16Array): string => createHash('sha256').update(new Uint8Array(a.buffer)).digest('hex');
  // Computed with CPython's audioop.ulaw2lin/alaw2lin (the same Sun algorithm) on bytes 0..255.
  assert.equal(sha(decodeUlaw(ALL_CODES)), '3dab54339e520bb2c924826e3b72a917a2b612e9fd12fc867500f1d983a75827');
  assert.equal(sha(decodeAlaw(ALL_CODES)), 'e04788d110e58ff8c70c93b8480190d973e3b67876b6119abbaec766cc75c174');
});

test('encoding every 16-bit sample gives the reference encoder output', () => {
  const sha = (a: Uint8Array): string => createHash('sha256').update(a).digest('hex');
  // audioop.lin2ulaw/lin2alaw over −32768..32767, width 2.
  assert.equal(sha(encodeUlaw(ALL_SAMPLES)), '81d633c9e6972a18c74a58720b96cb8ca0bdd096d4060b646dd708c3b846019a');
  assert.equal(sha(encodeAlaw(ALL_SAMPLES)), '38488f6fd710f4686360edc4d38639f96c491595ef93f8eb8d62d5e07ca6ce7b');
});

test('encode(decode(c)) returns c for every A-law code', () => {
  for (const c of ALL_CODES) assert.equal(linearToAlaw(alawToLinear(c)), c, `code 0x${c.toString(16)}`);
});

test('encode(decode(c)) returns c for every µ-law code except negative zero 0x7F, which becomes 0xFF', () => {
  for (const c of ALL_CODES) assert.equal(linearToUlaw(ulawToLinear(c)), c === 0x7f ? 0xff : c, `code 0x${c.toString(16)}`);
});

test('decode tables are strictly monotonic along each sign half', () => {
  // µ-law: 0x00..0x7F climb from −32124 to 0, 0x80..0xFF fall from 32124 to 0.
  for (let i = 1; i < 128; i++) {
    assert.ok(ulawToLinear(i) > ulawToLinear(i - 1), `µ-law 0x${i.toString(16)}`);
    assert.ok(ulawToLinear(0x80 + i) < ulawToLinear(0x80 + i - 1), `µ-law 0x${(0x80 + i).toString(16)}`);
  }
  // A-law: with the even bits restored (XOR 0x55), magnitude grows with the low 7 bits.
  for (let i = 1; i < 128; i++) {
    assert.ok(alawToLinear((0x80 | i) ^ 0x55) > alawToLinear((0x80 | (i - 1)) ^ 0x55), `A-law +${i}`);
    assert.ok(alawToLinear(i ^ 0x55) < alawToLinear((i - 1) ^ 0x55), `A-law −${i}`);
  }
});

test('quantisation is monotonic and within half a step of the input across the whole 16-bit range', () => {
  const u = decodeUlaw(encodeUlaw(ALL_SAMPLES));
  const a = decodeAlaw(encodeAlaw(ALL_SAMPLES));
  for (let i = 1; i < ALL_SAMPLES.length; i++) {
    assert.ok((u[i] as number) >= (u[i - 1] as number) && (a[i] as number) >= (a[i - 1] as number), `sample ${ALL_SAMPLES[i]}`);
  }
  // The top segment's step is 1024 in both laws, so the error is at most 512; µ-law also drops
  // the 2 low bits before quantising (up to 3 more) and clips beyond ±32124.
  for (let i = 0; i < ALL_SAMPLES.length; i++) {
    const x = ALL_SAMPLES[i] as number;
    assert.ok(Math.abs((a[i] as number) - x) <= 512, `A-law sample ${x}`);
    if (Math.abs(x) <= 32124) assert.ok(Math.abs((u[i] as number) - x) <= 515, `µ-law sample ${x}`);
  }
});

test('scalar encoders clamp out-of-range numbers, truncate fractions and read NaN as silence', () => {
  assert.equal(linearToUlaw(100000), linearToUlaw(32767));
  assert.equal(linearToUlaw(-100000), 0x00);
  assert.equal(linearToAlaw(-100000), 0x2a);
  assert.equal(linearToUlaw(1000.9), linearToUlaw(1000));
  assert.equal(linearToAlaw(Number.NaN), linearToAlaw(0));
  assert.equal(ulawToLinear(0x100 | 0x80), 32124);
});
