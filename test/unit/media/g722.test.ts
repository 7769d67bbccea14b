// G.722 mode 1 behaviour: framing, tones through encode→decode (level, frequency, SNR), silence,
// reset, saturation instead of wrap-around, and a golden decoder output. Bit-exactness against an
// independent implementation is in g722-vectors.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  CodecError, G722Decoder, G722Encoder, G722_RTP_CLOCK_RATE_HZ, G722_SAMPLE_RATE_HZ, goertzelAmplitude,
} from '../../../src/media/index.js';
import { encodeLowerBand, encodeUpperBand, lowerBandState, upperBandState } from '../../../src/media/g722-adpcm.js';

const FS = G722_SAMPLE_RATE_HZ;
/** Transmit + receive QMF: two 24-tap filters, 22 samples at 16 kHz end to end. */
const CODEC_DELAY_SAMPLES = 22;

function sine(frequencyHz: number, amplitude: number, samples: number): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / FS)));
}

function roundTrip(pcm: Int16Array): Int16Array {
  return new G722Decoder().decode(new G722Encoder().encode(pcm));
}

/** SNR in dB of `out` against `ref` delayed by the codec, after the adaptation settles. */
function snrDb(ref: Int16Array, out: Int16Array, from: number, to: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = from; i < to; i++) {
    const x = ref[i] as number;
    signal += x * x;
    noise += ((out[i + CODEC_DELAY_SAMPLES] as number) - x) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

const sha256 = (a: Int16Array | Uint8Array): string =>
  createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

test('20 ms of 16 kHz audio (320 samples) encodes to 160 octets and decodes to 320 samples', () => {
  const octets = new G722Encoder().encode(sine(1000, 8000, 320));
  assert.equal(octets.length, 160);
  assert.equal(new G722Decoder().decode(octets).length, 320);
});

test('the RTP clock is 8000 Hz for 16 kHz audio (RFC 3551 §4.5.2), one timestamp tick per octet', () => {
  assert.equal(G722_SAMPLE_RATE_HZ, 16000);
  assert.equal(G722_RTP_CLOCK_RATE_HZ, 8000);
});

// Thresholds: the lower band (0–4 kHz) has 6 bits per sample and measures 34–64 dB here, the upper
// band (4–8 kHz) has 2 bits and measures 22–28 dB; we require 30 dB and 20 dB with some margin.
for (const frequencyHz of [300, 1000, 2000, 3400, 4500, 6000, 7000]) {
  test(`a ${frequencyHz} Hz tone keeps its frequency and level, SNR ≥ ${frequencyHz < 4000 ? 30 : 20} dB`, () => {
    const amplitude = 10000;
    const pcm = sine(frequencyHz, amplitude, FS);
    const out = roundTrip(pcm);
    const settled = out.subarray(4000 + CODEC_DELAY_SAMPLES, 12000 + CODEC_DELAY_SAMPLES);
    const level = goertzelAmplitude(settled, frequencyHz, FS);
    assert.ok(Math.abs(level / amplitude - 1) < 0.01, `level ${level} for amplitude ${amplitude}`);
    for (const other of [frequencyHz / 2, frequencyHz * 1.5]) {
      if (other < FS / 2) assert.ok(goertzelAmplitude(settled, other, FS) < amplitude / 100, `energy at ${other} Hz`);
    }
    const snr = snrDb(pcm, out, 4000, 15000);
    assert.ok(snr >= (frequencyHz < 4000 ? 30 : 20), `SNR ${snr.toFixed(1)} dB`);
  });
}

test('silence decodes to within ±4 of zero, and the upper band idles on code 3 at its floor scale factor', () => {
  const octets = new G722Encoder().encode(new Int16Array(FS));
  assert.ok(octets.every((c) => c >> 6 === 3), 'upper-band code 3 (smallest positive step) throughout');
  const out = new G722Decoder().decode(octets);
  assert.ok(out.every((x) => Math.abs(x) <= 4), `max |x| ${Math.max(...out.map(Math.abs))}`);

  const lower = lowerBandState();
  const upper = upperBandState();
  for (let i = 0; i < 8000; i++) {
    encodeLowerBand(lower, 0);
    encodeUpperBand(upper, 0);
  }
  // §3.5: NB never drops below 0, so DETH stays at its reset value 8 and the zero predictor is idle.
  assert.equal(upper.nb, 0);
  assert.equal(upper.det, 8);
  assert.deepEqual([...upper.b], [0, 0, 0, 0, 0, 0, 0]);
  assert.ok(lower.det >= 32 && lower.nb >= 0 && lower.nb <= 18432);
});

test('reset returns the encoder and the decoder to the state of a new one', () => {
  const first = sine(440, 12000, 640);
  const second = sine(2500, 6000, 640);
  const encoder = new G722Encoder();
  const expected = new G722Encoder().encode(second);
  encoder.encode(first);
  assert.notDeepEqual(encoder.encode(second), expected, 'state carries over between calls');
  encoder.reset();
  assert.deepEqual(encoder.encode(second), expected);

  const decoder = new G722Decoder();
  const octets = new G722Encoder().encode(second);
  decoder.decode(new G722Encoder().encode(first));
  decoder.reset();
  assert.deepEqual(decoder.decode(octets), new G722Decoder().decode(octets));
});

test('encoding 20 ms frames one by one gives the same stream as one call', () => {
  const pcm = sine(1234, 9000, 3200);
  const whole = new G722Encoder().encode(pcm);
  const encoder = new G722Encoder();
  const framed = new Uint8Array(whole.length);
  for (let i = 0; i < pcm.length; i += 320) framed.set(encoder.encode(pcm.subarray(i, i + 320)), i / 2);
  assert.deepEqual(framed, whole);
});

test('an odd number of samples is a CodecError bad-frame-size', () => {
  assert.throws(() => new G722Encoder().encode(new Int16Array(321)), (e: unknown) => e instanceof CodecError && e.code === 'bad-frame-size');
});

test('a full-scale square wave saturates instead of wrapping around (ITU QMF limits)', () => {
  const square = Int16Array.from({ length: FS }, (_, i) => (Math.floor(i / 40) % 2 ? 32767 : -32768));
  const out = roundTrip(square);
  for (let i = 2000; i < FS - 100; i++) {
    const phase = i % 40;
    if (phase > 8 && phase < 32) assert.equal(Math.sign(out[i + CODEC_DELAY_SAMPLES] as number), Math.sign(square[i] as number), `sample ${i}`);
  }
});

test('decoding octets 0..255 four times gives the golden output', () => {
  // Generated once with this decoder. libspandsp 0.0.6 gives the same samples except where the
  // receive QMF overflows 16 bits (this sequence drives it there on purpose): it wraps, the ITU
  // reference and we saturate. Any change to the tables or the arithmetic changes this hash.
  const octets = Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff);
  const out = new G722Decoder().decode(octets);
  assert.equal(sha256(out), '1d23579266c9a55f44e2f29ee202015a237ea2431d377121fee0d16d0bc3a550');
});
