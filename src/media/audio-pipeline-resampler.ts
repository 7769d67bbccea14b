// Sample-rate conversion between the audio devices (8 or 16 kHz) and a codec's PCM side (8 kHz
// for G.711, 16 kHz for G.722), so a call that renegotiates to a codec of another rate keeps
// the devices it opened. Only the factor 2 occurs, so one linear-phase low-pass FIR does both
// ways (polyphase, no multiplications by the zeros):
// - 16 → 8 kHz: filter at 16 kHz, keep every second sample. The filter removes what lies above
//   the new Nyquist (4 kHz) before it would fold back into the speech band.
// - 8 → 16 kHz: insert a zero after every sample and filter at 16 kHz (gain 2), which removes
//   the image of the speech band above 4 kHz.
// The filter: 63-tap windowed sinc (Blackman), cut-off 3.6 kHz; flat (±0.1 dB) to 3 kHz, below
// −60 dB from 4.4 kHz. Both ways delay the audio by 31 samples at 16 kHz (about 2 ms). State
// carries across calls, so frames of any length join without clicks.
import type { AudioSampleRateHz } from './audio-types.js';

const TAPS = 63;
const CUTOFF_HZ = 3600;
const FILTER_RATE_HZ = 16000;

/** h[n], normalised to a DC gain of 1. */
const FILTER: Float64Array = (() => {
  const h = new Float64Array(TAPS);
  const fc = CUTOFF_HZ / FILTER_RATE_HZ;
  const mid = (TAPS - 1) / 2;
  let sum = 0;
  for (let n = 0; n < TAPS; n++) {
    const x = n - mid;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (TAPS - 1));
    h[n] = sinc * window;
    sum += h[n] as number;
  }
  for (let n = 0; n < TAPS; n++) h[n] = (h[n] as number) / sum;
  return h;
})();

/** The two polyphase branches of 2·h for the interpolator: even taps and odd taps. */
const UP_EVEN = Float64Array.from({ length: (TAPS + 1) / 2 }, (_, i) => 2 * (FILTER[2 * i] as number));
const UP_ODD = Float64Array.from({ length: (TAPS - 1) / 2 }, (_, i) => 2 * (FILTER[2 * i + 1] as number));

export class Resampler {
  /** The last input samples, for the filter's memory; length fixed per direction. */
  private history: Float64Array;

  constructor(
    readonly fromHz: AudioSampleRateHz,
    readonly toHz: AudioSampleRateHz,
  ) {
    this.history = new Float64Array(fromHz > toHz ? TAPS - 1 : fromHz < toHz ? UP_EVEN.length - 1 : 0);
  }

  /** Whether process() returns its input unchanged. */
  get passthrough(): boolean {
    return this.fromHz === this.toHz;
  }

  /** Output samples for `samples` input samples. */
  outputLength(samples: number): number {
    return (samples * this.toHz) / this.fromHz;
  }

  /** Converts one block; 16 → 8 kHz needs an even number of samples. */
  process(input: Int16Array): Int16Array {
    if (this.fromHz === this.toHz) return input;
    return this.fromHz > this.toHz ? this.decimate(input) : this.interpolate(input);
  }

  private decimate(input: Int16Array): Int16Array {
    if (input.length % 2 !== 0) throw new RangeError(`16 → 8 kHz takes sample pairs, got ${input.length} samples`);
    const h = this.history.length;
    const buf = this.join(input);
    const out = new Int16Array(input.length / 2);
    for (let k = 0; k < out.length; k++) {
      // y[k] = Σ h[j]·x[2k + 1 − j]: the newest input sample of the pair is the filter's first tap.
      const newest = h + 2 * k + 1;
      let acc = 0;
      for (let j = 0; j < TAPS; j++) acc += (FILTER[j] as number) * (buf[newest - j] as number);
      out[k] = clip(acc);
    }
    this.history = buf.slice(buf.length - h);
    return out;
  }

  private interpolate(input: Int16Array): Int16Array {
    const h = this.history.length;
    const buf = this.join(input);
    const out = new Int16Array(input.length * 2);
    for (let m = 0; m < input.length; m++) {
      const newest = h + m;
      let even = 0;
      for (let i = 0; i < UP_EVEN.length; i++) even += (UP_EVEN[i] as number) * (buf[newest - i] as number);
      let odd = 0;
      for (let i = 0; i < UP_ODD.length; i++) odd += (UP_ODD[i] as number) * (buf[newest - i] as number);
      out[2 * m] = clip(even);
      out[2 * m + 1] = clip(odd);
    }
    this.history = buf.slice(buf.length - h);
    return out;
  }

  private join(input: Int16Array): Float64Array {
    const buf = new Float64Array(this.history.length + input.length);
    buf.set(this.history);
    buf.set(input, this.history.length);
    return buf;
  }
}

function clip(x: number): number {
  const r = Math.round(x);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
