// G.711 Appendix I style concealment on synthetic signals: pure tones, a voiced-speech-like
// harmonic signal at 150 Hz, and a mix of two unrelated low tones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLC_DELAY_SAMPLES, PacketLossConcealer, goertzelAmplitude } from '../../../src/media/index.js';

const FS = 8000;
const FRAME = 160;
/** Frames before a loss: 200 ms of history. */
const LEAD_FRAMES = 10;
const LOSS_START = LEAD_FRAMES * FRAME;

type Signal = (n: number) => number;

const sine = (hz: number, amplitude: number, phase = 0): Signal => (n) => amplitude * Math.sin((2 * Math.PI * hz * n) / FS + phase);
const voiced: Signal = (n) => {
  const w = (2 * Math.PI * 150 * n) / FS;
  return 6000 * Math.sin(w) + 3000 * Math.sin(2 * w + 1) + 1500 * Math.sin(3 * w + 2);
};
const lowMix: Signal = (n) => 5000 * Math.sin((2 * Math.PI * 150 * n) / FS) + 3000 * Math.sin((2 * Math.PI * 230 * n) / FS + 0.3);

function frameOf(signal: Signal, index: number): Int16Array {
  return Int16Array.from({ length: FRAME }, (_, i) => Math.round(signal(index * FRAME + i)));
}

/** Plays `frames` frames of `signal` through a concealer, losing frames [LEAD_FRAMES, LEAD_FRAMES + lost). */
function run(signal: Signal, lost: number, frames = 30, after: Signal = signal): { input: number[]; output: number[]; plc: PacketLossConcealer } {
  const plc = new PacketLossConcealer();
  const input: number[] = [];
  const output: number[] = [];
  for (let k = 0; k < frames; k++) {
    const frame = frameOf(k < LEAD_FRAMES ? signal : after, k);
    input.push(...frame);
    output.push(...(k >= LEAD_FRAMES && k < LEAD_FRAMES + lost ? plc.conceal(FRAME) : plc.good(frame)));
  }
  return { input, output, plc };
}

/** Output index of input sample n. */
const out = (n: number): number => n + PLC_DELAY_SAMPLES;

function maxStep(x: readonly number[], from = 1, to = x.length): number {
  let most = 0;
  for (let i = Math.max(1, from); i < to; i++) most = Math.max(most, Math.abs((x[i] as number) - (x[i - 1] as number)));
  return most;
}

function rms(x: readonly number[]): number {
  return Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
}

test('without loss the output is the input, 3.75 ms (30 samples) later', () => {
  let seed = 1;
  const noise: Signal = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 20000 - 10000;
  const { input, output } = run(noise, 0, 10);
  assert.equal(PLC_DELAY_SAMPLES, 30);
  assert.deepEqual(output.slice(0, 30), new Array(30).fill(0));
  assert.deepEqual(output.slice(30), input.slice(0, input.length - 30));
});

test('finds the pitch period by autocorrelation within 5–15 ms', () => {
  assert.equal(run(sine(100, 8000), 1).plc.pitchSamples, 80, '100 Hz: one 10 ms period');
  assert.equal(run(voiced, 1).plc.pitchSamples, 53, '150 Hz: 53.3 samples');
  // 1 kHz repeats every 8 samples; the shortest whole number of periods in range is 40.
  assert.equal(run(sine(1000, 8000), 1).plc.pitchSamples, 40);
});

test('concealing 20 ms of a 1 kHz tone keeps its frequency and nearly its amplitude', () => {
  const { output } = run(sine(1000, 8000), 2);
  const concealed = output.slice(out(LOSS_START), out(LOSS_START + 2 * FRAME));
  // 10 ms at full level, then fading 20 % per 10 ms: 0.95 of 8000 on average over 20 ms.
  const first = goertzelAmplitude(concealed.slice(0, FRAME), 1000, FS);
  assert.ok(first > 7400 && first < 8000, `first 20 ms: ${first}`);
  for (const hz of [500, 750, 1250, 1500, 2000]) {
    const leak = goertzelAmplitude(concealed.slice(0, FRAME), hz, FS);
    assert.ok(leak < 200, `${hz} Hz: ${leak}`);
  }
  // 20–40 ms in, the gain falls from 0.8 to 0.4: 0.6 of 8000 on average.
  const second = goertzelAmplitude(concealed.slice(FRAME), 1000, FS);
  assert.ok(second > 4400 && second < 5200, `20–40 ms in: ${second}`);
});

test('a long loss fades 20 % per 10 ms after the first 10 ms and is exact silence after 60 ms', () => {
  const { output } = run(sine(1000, 8000), 5);
  const windows = Array.from({ length: 10 }, (_, w) => rms(output.slice(out(LOSS_START + w * 80), out(LOSS_START + (w + 1) * 80))));
  const full = 8000 / Math.SQRT2;
  assert.ok(Math.abs((windows[0] as number) - full) < 10, `first 10 ms at full level: ${windows[0]}`);
  for (let w = 1; w < 6; w++) {
    assert.ok((windows[w] as number) < (windows[w - 1] as number), `window ${w} quieter than ${w - 1}: ${windows.join(', ')}`);
  }
  // Window w (10 ms each) fades from 1 − 0.2·(w−1) to 1 − 0.2·w.
  assert.ok(Math.abs((windows[3] as number) - full * 0.5) < 0.03 * full, `30–40 ms: ${windows[3]}`);
  const afterSixty = output.slice(out(LOSS_START + 480), out(LOSS_START + 5 * FRAME));
  assert.ok(afterSixty.length > 300);
  assert.ok(afterSixty.every((v) => v === 0), 'silent after 60 ms');
});

test('no discontinuity at the seams of the concealment or at the merge back to real audio', () => {
  for (const [name, signal] of [['1 kHz', sine(1000, 8000)], ['voiced 150 Hz', voiced], ['150+230 Hz', lowMix]] as const) {
    for (const lost of [1, 2, 3, 5]) {
      const { input, output } = run(signal, lost);
      const natural = maxStep(input);
      const around = maxStep(output, out(LOSS_START) - 10, out((LEAD_FRAMES + lost + 2) * FRAME));
      assert.ok(around <= natural * 1.1, `${name}, ${lost * 20} ms lost: step ${around} vs ${natural} in the signal`);
    }
  }
});

test('real audio that resumes out of phase with the concealment is cross-faded in, not switched', () => {
  // After 20 ms lost, the far end resumes with the tone inverted: switching would jump by up to 2 × 8000.
  const { input, output } = run(sine(1000, 8000), 1, 20, sine(1000, 8000, Math.PI));
  const resume = out((LEAD_FRAMES + 1) * FRAME);
  const natural = maxStep(input, 1, LOSS_START);
  const joined = maxStep(output, resume - 5, resume + FRAME);
  assert.ok(joined <= natural * 1.1, `join step ${joined} vs ${natural}`);
});

test('after the merge window the output is the input again, exactly', () => {
  const { input, output } = run(voiced, 2);
  const resumed = (LEAD_FRAMES + 2) * FRAME;
  // The merge spans a quarter pitch period plus 4 ms per further 10 ms lost, at most 10 ms.
  const merged = Math.min(80, (53 >> 2) + 3 * 32);
  for (let n = resumed + merged; n < input.length - PLC_DELAY_SAMPLES; n++) {
    assert.equal(output[out(n)], input[n], `sample ${n}`);
  }
  assert.notEqual(output[out(resumed)], input[resumed], 'the first resumed sample is still blended');
});

test('the concealment does not depend on how the loss is sliced into frames', () => {
  const feed = (slices: readonly number[]): number[] => {
    const plc = new PacketLossConcealer();
    for (let k = 0; k < LEAD_FRAMES; k++) plc.good(frameOf(voiced, k));
    return slices.flatMap((n) => [...plc.conceal(n)]);
  };
  const whole = feed([400]);
  assert.deepEqual(feed([160, 160, 80]), whole);
  assert.deepEqual(feed([7, 73, 1, 200, 119]), whole);
  assert.ok(rms(whole.slice(0, 80)) > 2000, 'and it is not silence');
});

test('rejects a negative or fractional sample count', () => {
  const plc = new PacketLossConcealer();
  assert.throws(() => plc.conceal(-1), RangeError);
  assert.throws(() => plc.conceal(1.5), RangeError);
  assert.equal(plc.conceal(0).length, 0);
});
