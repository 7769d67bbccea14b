// Tones as PCM: right frequencies at the right level during on segments, exact silence during
// off segments, cadence boundaries on exact samples, and no phase jumps between frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TONE_NAMES, TONE_PLAN_COUNTRIES, ToneGenerator, dbm0ToPeak, goertzelAmplitude, parseTone, tonePlanFor } from '../../../src/media/index.js';

const FS = 8000;
const A = dbm0ToPeak(-13);

function generate(tone: string, samples: number, frame = 160): Int16Array {
  const gen = new ToneGenerator({ tone, sampleRateHz: FS });
  const out = new Int16Array(samples);
  for (let at = 0; at < samples; at += frame) out.set(gen.next(Math.min(frame, samples - at)), at);
  return out;
}

test('levels: 0 dBm0 peaks at 22 827 (G.711: full scale is +3.14 dBm0), −13 dBm0 at 5 110', () => {
  assert.equal(Math.round(dbm0ToPeak(0)), 22_827);
  assert.equal(Math.round(dbm0ToPeak(-13)), 5_110);
  assert.equal(Math.round(dbm0ToPeak(3.14)), 32_768);
});

test('every tone of every country: its frequencies at −13 dBm0 each while on, exact zeros while off', () => {
  for (const country of TONE_PLAN_COUNTRIES) {
    for (const name of TONE_NAMES) {
      const tone = tonePlanFor(country).tones[name];
      const gen = new ToneGenerator({ tone, sampleRateHz: FS });
      const where = `${country} ${name} "${tone.notation}"`;
      for (const seg of tone.segments) {
        const pcm = gen.next(Number.isFinite(seg.durationMs) ? (seg.durationMs * FS) / 1000 : FS);
        if (seg.frequenciesHz.length === 0) {
          assert.ok(pcm.every((v) => v === 0), `${where}: off segment is silent`);
          continue;
        }
        // A modulated carrier keeps 1/(1 + 0.9) of its level; the rest goes to the sidebands.
        const expected = seg.modulationHz > 0 ? A / 1.9 : A;
        for (const f of seg.frequenciesHz) {
          const got = goertzelAmplitude(pcm, f, FS);
          assert.ok(Math.abs(got - expected) < 0.08 * expected, `${where}: ${f} Hz at ${got.toFixed(0)}, want ${expected.toFixed(0)}`);
        }
        for (const f of [200, 1000, 1400, 2000]) {
          const leak = goertzelAmplitude(pcm, f, FS);
          assert.ok(leak < 0.05 * A, `${where}: nothing at ${f} Hz (${leak.toFixed(0)})`);
        }
      }
    }
  }
});

test('a modulated tone has its sidebands at carrier ± modulator', () => {
  const pcm = generate('400*16/1000,0/2000', 8000);
  const sideband = (0.9 / 2 / 1.9) * A;
  for (const f of [384, 416]) assert.ok(Math.abs(goertzelAmplitude(pcm, f, FS) - sideband) < 0.05 * sideband, `${f} Hz`);
});

test('cadence boundaries fall on exact samples and the cadence loops (US ringback, 77-sample frames)', () => {
  const gen = new ToneGenerator({ tone: '440+480/2000,0/4000', sampleRateHz: FS });
  assert.equal(gen.cycleSamples, 48_000);
  const pcm = generate('440+480/2000,0/4000', 2 * 48_000 + 100, 77);
  const lastOn = (from: number, to: number) => {
    let last = -1;
    for (let i = from; i < to; i++) if (pcm[i] !== 0) last = i;
    return last;
  };
  assert.equal(lastOn(0, 48_000), 15_999, '2 s on = 16 000 samples');
  assert.ok(pcm.subarray(16_000, 48_000).every((v) => v === 0), '4 s off');
  assert.equal(lastOn(48_000, 96_000), 48_000 + 15_999, 'the second cycle repeats the first');
  assert.deepEqual([...pcm.subarray(48_000, 48_000 + 16_000)], [...pcm.subarray(0, 16_000)]);
  // The UK double ring: on 0–3199, off 3200–4799, on 4800–7999, off 8000–23999.
  const uk = generate('400+450/400,0/200,400+450/400,0/2000', 24_000);
  const on = (i: number) => uk.subarray(i, i + 8).some((v) => v !== 0);
  assert.deepEqual([on(0), on(3192), on(3200), on(4792), on(4800), on(7992), on(8000), on(23_992)], [true, true, false, false, true, true, false, false]);
});

test('frames join without phase jumps: framed output equals one continuous run', () => {
  for (const tone of ['350+440', '425', '413+438/400,0/200,413+438/400,0/2000', '350+440/750,440/750']) {
    const whole = generate(tone, 24_000, 24_000);
    for (const frame of [160, 80, 77, 1]) assert.deepEqual([...generate(tone, 24_000, frame)], [...whole], `${tone} in ${frame}-sample frames`);
  }
});

test('phase runs on across cadence segments: the 440 Hz of UK special dial tone never restarts', () => {
  const pcm = generate('350+440/750,440/750', 24_000);
  for (const n of [6_000, 6_001, 9_000, 12_000, 15_000, 18_003]) {
    const in440Only = Math.floor(n / 6_000) % 2 === 1;
    const expected = A * Math.sin((2 * Math.PI * 440 * n) / FS) + (in440Only ? 0 : A * Math.sin((2 * Math.PI * 350 * n) / FS));
    assert.equal(pcm[n], Math.round(expected) || 0, `sample ${n}`);
  }
  let biggest = 0;
  for (let i = 1; i < pcm.length; i++) biggest = Math.max(biggest, Math.abs((pcm[i] as number) - (pcm[i - 1] as number)));
  const steepest = 2 * A * (Math.sin((Math.PI * 350) / FS) + Math.sin((Math.PI * 440) / FS));
  assert.ok(biggest <= steepest, `largest step ${biggest} ≤ ${steepest.toFixed(0)}`);
});

test('a continuous tone stays sample-exact after ten minutes of frames', () => {
  const gen = new ToneGenerator({ tone: '350+440', sampleRateHz: FS });
  // 600 s is a whole number of cycles of both components, so the next frame starts like the first.
  for (let i = 0; i < 30_000; i++) gen.next(160);
  assert.deepEqual([...gen.next(160)], [...new ToneGenerator({ tone: '350+440', sampleRateHz: FS }).next(160)]);
});

test('reset() starts the cadence again; isOn tells where it is', () => {
  const gen = new ToneGenerator({ tone: parseTone('480+620/500,0/500'), sampleRateHz: FS });
  assert.equal(gen.isOn, true);
  gen.next(4_000);
  assert.equal(gen.isOn, false);
  gen.reset();
  assert.equal(gen.isOn, true);
  assert.deepEqual([...gen.next(160)], [...generate('480+620/500,0/500', 160)]);
});

test('the level is adjustable per component, and a sum past full scale clips instead of wrapping', () => {
  const quiet = new ToneGenerator({ tone: '350+440', sampleRateHz: FS, levelDbm0: -20 }).next(8000);
  for (const f of [350, 440]) assert.ok(Math.abs(goertzelAmplitude(quiet, f, FS) - dbm0ToPeak(-20)) < 0.01 * dbm0ToPeak(-20), `${f} Hz`);
  const loud = new ToneGenerator({ tone: '350+440', sampleRateHz: FS, levelDbm0: 0 }).next(8000);
  const peak = dbm0ToPeak(0);
  let clipped = 0;
  for (let n = 0; n < loud.length; n++) {
    const exact = peak * (Math.sin((2 * Math.PI * 350 * n) / FS) + Math.sin((2 * Math.PI * 440 * n) / FS));
    if (exact > 32767) {
      assert.equal(loud[n], 32767, `sample ${n}`);
      clipped++;
    } else if (exact < -32768) {
      assert.equal(loud[n], -32768, `sample ${n}`);
      clipped++;
    }
  }
  assert.ok(clipped > 100, `${clipped} samples clipped`);
});

test('rejects frequencies at or above Nyquist and levels above full scale', () => {
  assert.throws(() => new ToneGenerator({ tone: '4000', sampleRateHz: FS }), RangeError);
  assert.throws(() => new ToneGenerator({ tone: '425', sampleRateHz: FS, levelDbm0: 4 }), RangeError);
  assert.throws(() => new ToneGenerator({ tone: '425', sampleRateHz: 0 }), RangeError);
  assert.doesNotThrow(() => new ToneGenerator({ tone: '4000', sampleRateHz: 16_000 }));
});
