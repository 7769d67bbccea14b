// Plays a parsed tone as 16-bit PCM, frame after frame. Every component's phase comes from one
// absolute sample counter, so a tone is phase-continuous across frames and across cadence
// segments (UK special dial "350+440/750,440/750" keeps its 440 Hz running), and the cadence
// boundaries fall on exact sample counts however the caller slices the frames.
import { type ToneSpec, parseTone } from './tones.js';

/**
 * G.711's theoretical load capacity: a full-scale sine is +3.14 dBm0 (A-law; µ-law's +3.17 dBm0
 * differs by 0.03 dB). So a 0 dBm0 sine peaks at 32768 · 10^(−3.14/20) ≈ 22 827.
 */
export const DBM0_FULL_SCALE = 3.14;
/** Modulation depth of `carrier*modulator` tones (E.180 gives none; Asterisk and most PBXes use 90 %). */
export const TONE_MODULATION_DEPTH = 0.9;
/** E.180 levels for call-progress tones sit around −10 … −15 dBm0 per component. */
export const DEFAULT_TONE_LEVEL_DBM0 = -13;

/** Peak amplitude in 16-bit units of a sine at `levelDbm0`. */
export function dbm0ToPeak(levelDbm0: number): number {
  return 32768 * 10 ** ((levelDbm0 - DBM0_FULL_SCALE) / 20);
}

export interface ToneGeneratorOptions {
  /** A parsed tone or its notation (parsed here, throwing ToneError). */
  readonly tone: ToneSpec | string;
  readonly sampleRateHz: number;
  /** Level of each component; default −13 dBm0. */
  readonly levelDbm0?: number;
}

interface Segment {
  readonly components: readonly Oscillator[];
  readonly modulator: Oscillator | undefined;
  /** Length in samples; Infinity for a continuous tone. */
  readonly samples: number;
}

interface Oscillator {
  readonly step: number;
  /** The counter may be reduced modulo this many samples without changing the phase. */
  readonly wrap: number;
}

export class ToneGenerator {
  readonly sampleRateHz: number;
  readonly tone: ToneSpec;
  private readonly amplitude: number;
  private readonly segments: readonly Segment[];
  /** Samples produced since start or reset(). */
  private position = 0;
  private segmentIndex = 0;
  private inSegment = 0;

  constructor(opts: ToneGeneratorOptions) {
    if (!(opts.sampleRateHz > 0)) throw new RangeError(`sampleRateHz must be positive, got ${opts.sampleRateHz}`);
    const levelDbm0 = opts.levelDbm0 ?? DEFAULT_TONE_LEVEL_DBM0;
    if (!(levelDbm0 <= DBM0_FULL_SCALE)) throw new RangeError(`levelDbm0 ${levelDbm0} is above full scale (${DBM0_FULL_SCALE} dBm0)`);
    this.sampleRateHz = opts.sampleRateHz;
    this.tone = typeof opts.tone === 'string' ? parseTone(opts.tone) : opts.tone;
    this.amplitude = dbm0ToPeak(levelDbm0);
    const nyquist = this.sampleRateHz / 2;
    this.segments = this.tone.segments.map((seg) => {
      for (const f of [...seg.frequenciesHz, seg.modulationHz]) {
        if (f >= nyquist) throw new RangeError(`tone "${this.tone.notation}": ${f} Hz is not below Nyquist (${nyquist} Hz)`);
      }
      return {
        components: seg.frequenciesHz.map((f) => this.oscillator(f)),
        modulator: seg.modulationHz > 0 ? this.oscillator(seg.modulationHz) : undefined,
        samples: Number.isFinite(seg.durationMs) ? Math.max(1, Math.round((seg.durationMs * this.sampleRateHz) / 1000)) : Number.POSITIVE_INFINITY,
      };
    });
  }

  /** Samples in one loop of the cadence; Infinity for a continuous tone. */
  get cycleSamples(): number {
    return this.segments.reduce((sum, s) => sum + s.samples, 0);
  }

  /** Whether the sample the next call starts with belongs to an on segment. */
  get isOn(): boolean {
    return (this.segments[this.segmentIndex]?.components.length ?? 0) > 0;
  }

  /** The next `samples` samples; off segments are exact zeros. */
  next(samples: number): Int16Array {
    if (!(Number.isInteger(samples) && samples >= 0)) throw new RangeError(`samples must be a whole number, got ${samples}`);
    const out = new Int16Array(samples);
    let written = 0;
    while (written < samples) {
      const seg = this.segments[this.segmentIndex] as Segment;
      const count = Math.min(samples - written, seg.samples - this.inSegment);
      if (seg.components.length > 0) this.render(seg, out, written, count);
      written += count;
      this.position += count;
      this.inSegment += count;
      if (this.inSegment >= seg.samples) {
        this.inSegment = 0;
        this.segmentIndex = (this.segmentIndex + 1) % this.segments.length;
      }
    }
    return out;
  }

  /** Starts the cadence and the phase again from the beginning. */
  reset(): void {
    this.position = 0;
    this.segmentIndex = 0;
    this.inSegment = 0;
  }

  private render(seg: Segment, out: Int16Array, offset: number, count: number): void {
    const a = this.amplitude;
    const depth = TONE_MODULATION_DEPTH;
    for (let i = 0; i < count; i++) {
      const n = this.position + i;
      let sum = 0;
      for (const osc of seg.components) sum += Math.sin(osc.step * (n % osc.wrap));
      if (seg.modulator) {
        // The envelope peaks at 1, so a modulated tone never exceeds the level of a plain one.
        sum *= (1 + depth * Math.sin(seg.modulator.step * (n % seg.modulator.wrap))) / (1 + depth);
      }
      out[offset + i] = Math.max(-32768, Math.min(32767, Math.round(a * sum)));
    }
  }

  private oscillator(frequencyHz: number): Oscillator {
    const fs = this.sampleRateHz;
    // f/fs = k/n in lowest terms repeats every n samples; reducing the counter modulo n keeps
    // sin() accurate however long the tone plays. Non-integer rates just count on.
    const wrap = Number.isInteger(frequencyHz) && Number.isInteger(fs) ? fs / gcd(frequencyHz, fs) : Number.POSITIVE_INFINITY;
    return { step: (2 * Math.PI * frequencyHz) / fs, wrap };
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
