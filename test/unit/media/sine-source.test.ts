// The tone source (phase-continuous frames) and the Goertzel detector that measures it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SineSource, decodeUlaw, encodeUlaw, goertzelAmplitude } from '../../../src/media/index.js';

test('a 1 kHz tone at 8 kHz steps π/4 per sample: 0, A·√½, A, A·√½, 0, …', () => {
  const frame = new SineSource({ frequencyHz: 1000, sampleRateHz: 8000, amplitude: 10000 }).next(8);
  assert.deepEqual([...frame], [0, 7071, 10000, 7071, 0, -7071, -10000, -7071]);
});

test('frames continue the phase: three 160-sample frames equal one 480-sample run', () => {
  for (const frequencyHz of [1000, 440, 697.5]) {
    const framed = new SineSource({ frequencyHz, sampleRateHz: 8000 });
    const joined = [...framed.next(160), ...framed.next(160), ...framed.next(160)];
    assert.deepEqual(joined, [...new SineSource({ frequencyHz, sampleRateHz: 8000 }).next(480)], `${frequencyHz} Hz`);
  }
});

test('the tone stays phase-exact after five minutes of frames', () => {
  const src = new SineSource({ frequencyHz: 440, sampleRateHz: 8000, amplitude: 10000 });
  for (let i = 0; i < 15_000; i++) src.next(160);
  // 300 s · 440 Hz is a whole number of cycles, so the next frame starts like the first.
  assert.deepEqual([...src.next(160)], [...new SineSource({ frequencyHz: 440, sampleRateHz: 8000, amplitude: 10000 }).next(160)]);
});

test('rejects frequencies above Nyquist and amplitudes outside 16 bits', () => {
  assert.throws(() => new SineSource({ frequencyHz: 4001, sampleRateHz: 8000 }), RangeError);
  assert.throws(() => new SineSource({ frequencyHz: 1000, sampleRateHz: 8000, amplitude: 40000 }), RangeError);
});

test('Goertzel measures the amplitude of the tone at its frequency and almost nothing elsewhere', () => {
  const pcm = new SineSource({ frequencyHz: 1000, sampleRateHz: 8000, amplitude: 8000 }).next(800);
  assert.ok(Math.abs(goertzelAmplitude(pcm, 1000, 8000) - 8000) < 8, `at 1000 Hz: ${goertzelAmplitude(pcm, 1000, 8000)}`);
  for (const f of [500, 900, 1100, 2000]) assert.ok(goertzelAmplitude(pcm, f, 8000) < 8, `at ${f} Hz: ${goertzelAmplitude(pcm, f, 8000)}`);
  assert.equal(goertzelAmplitude(new Int16Array(0), 1000, 8000), 0);
});

test('the tone survives a G.711 µ-law round trip within 1 % of its amplitude', () => {
  const pcm = decodeUlaw(encodeUlaw(new SineSource({ frequencyHz: 1000, sampleRateHz: 8000, amplitude: 8000 }).next(800)));
  assert.ok(Math.abs(goertzelAmplitude(pcm, 1000, 8000) - 8000) < 80);
  assert.ok(goertzelAmplitude(pcm, 1500, 8000) < 80);
});
