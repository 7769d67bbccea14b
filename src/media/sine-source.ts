// A test tone as 16-bit PCM: each frame continues the phase where the previous one ended, so
// consecutive frames join without a click. The phase is derived from a sample counter rather
// than accumulated, so rounding does not drift however long the tone plays.

export interface SineSourceOptions {
  readonly frequencyHz: number;
  readonly sampleRateHz: number;
  /** Peak amplitude in 16-bit units, 0..32767; default 8000 (about −12 dBFS). */
  readonly amplitude?: number;
}

export class SineSource {
  private readonly frequencyHz: number;
  private readonly sampleRateHz: number;
  private readonly amplitude: number;
  /** Samples produced so far, modulo a whole number of periods when there is one. */
  private position = 0;
  private readonly wrap: number;

  constructor(opts: SineSourceOptions) {
    if (!(opts.sampleRateHz > 0)) throw new RangeError(`sampleRateHz must be positive, got ${opts.sampleRateHz}`);
    if (!(opts.frequencyHz >= 0 && opts.frequencyHz <= opts.sampleRateHz / 2)) {
      throw new RangeError(`frequencyHz ${opts.frequencyHz} is not in 0..${opts.sampleRateHz / 2} (Nyquist)`);
    }
    const amplitude = opts.amplitude ?? 8000;
    if (!(amplitude >= 0 && amplitude <= 32767)) throw new RangeError(`amplitude ${amplitude} is not in 0..32767`);
    this.frequencyHz = opts.frequencyHz;
    this.sampleRateHz = opts.sampleRateHz;
    this.amplitude = amplitude;
    // f/fs = k/n in lowest terms repeats every n samples; otherwise the counter just grows
    // (a double counts samples exactly for millennia at telephone rates).
    const { frequencyHz: f, sampleRateHz: fs } = opts;
    this.wrap = Number.isInteger(f) && Number.isInteger(fs) && f > 0 ? fs / gcd(f, fs) : Number.POSITIVE_INFINITY;
  }

  /** The next `samples` samples of the tone. */
  next(samples: number): Int16Array {
    const out = new Int16Array(samples);
    const step = (2 * Math.PI * this.frequencyHz) / this.sampleRateHz;
    for (let i = 0; i < samples; i++) {
      out[i] = Math.round(this.amplitude * Math.sin(step * (this.position + i)));
    }
    this.position = (this.position + samples) % this.wrap;
    return out;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
