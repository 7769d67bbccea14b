// Packet loss concealment for 8 kHz 16-bit PCM after ITU-T G.711 Appendix I (09/1999): keep
// 48.75 ms of history; when a frame is lost, find the pitch period by autocorrelation over lags
// of 5–15 ms and repeat the last period, overlap-adding a quarter period at every seam; widen
// the repeated span to two and then three periods 10 and 20 ms into the loss so a long gap does
// not buzz; fade 20 % per 10 ms from 10 ms on, which is silence after 60 ms; and cross-fade
// into the first real frame after the loss.
//
// Appendix I works in 10 ms frames; here the attenuation and the widening are counted in
// samples, so any frame length gives the same output. As in Appendix I the output lags the
// input by a quarter of the longest period (3.75 ms, `PLC_DELAY_SAMPLES`): those held-back
// samples are what the first seam is smoothed into.

export const PLC_SAMPLE_RATE_HZ = 8000;
/** Appendix I: pitch periods between 5 ms (200 Hz) and 15 ms (66.7 Hz). */
const PITCH_MIN = 40;
const PITCH_MAX = 120;
const PITCH_DIFF = PITCH_MAX - PITCH_MIN;
/** A quarter of the longest period: the longest seam overlap, and the output delay. */
const POVERLAP_MAX = PITCH_MAX >> 2;
export const PLC_DELAY_SAMPLES = POVERLAP_MAX;
/** Three periods for the widest repeated span plus the overlap before it. */
const HISTORY_LEN = PITCH_MAX * 3 + POVERLAP_MAX;
/** The autocorrelation window (20 ms), searched coarsely every NDEC lags, then around the best. */
const CORR_LEN = 160;
const CORR_BUF_LEN = CORR_LEN + PITCH_MAX;
const NDEC = 2;
/** Floor of the energy normalising the correlation, so silence does not divide by ~0. */
const CORR_MIN_POWER = 250;
/** Appendix I's frame: the unit of the attenuation ramp and of widening the repeated span. */
const STEP = 80;
/** Gain lost per STEP after the first STEP: 10 ms full, then 50 ms down to 0. */
const ATTENUATION_PER_STEP = 0.2;
/** The merge into real audio grows 4 ms for every 10 ms lost (capped at one STEP). */
const MERGE_GROWTH_PER_STEP = 32;
const SILENT_AFTER = STEP + STEP / ATTENUATION_PER_STEP;

export class PacketLossConcealer {
  readonly delaySamples = PLC_DELAY_SAMPLES;
  /** The last HISTORY_LEN samples, real or synthetic; the newest PLC_DELAY_SAMPLES not yet output. */
  private readonly history = new Float64Array(HISTORY_LEN);
  /** A copy of history frozen when a loss starts: the periods are repeated from it. */
  private readonly pitchBuf = new Float64Array(HISTORY_LEN);
  /** The real samples the first seam replaced, reused for every later seam. */
  private readonly lastQ = new Float64Array(POVERLAP_MAX);
  private pitch = PITCH_MAX;
  private pOverlap = POVERLAP_MAX;
  /** Length of the repeated span: one, two, then three periods. */
  private spanLen = 0;
  /** Read position in the span. */
  private spanOffset = 0;
  /** Samples concealed in the current loss; 0 while audio flows. */
  private erased = 0;
  /** After widening: the old span's continuation, cross-faded into the next samples read. */
  private seam: { readonly tail: Float64Array; pos: number } | undefined;

  /** Samples concealed since the last real frame. */
  get erasedSamples(): number {
    return this.erased;
  }

  /** The pitch period, in samples, the current or last loss repeats. */
  get pitchSamples(): number {
    return this.pitch;
  }

  /** Takes a received frame; returns as many output samples, PLC_DELAY_SAMPLES behind. */
  good(frame: Int16Array): Int16Array {
    // The typed-array constructor converts in one native copy (Float64Array.from iterates).
    const samples = new Float64Array(frame);
    if (this.erased > 0) this.mergeInto(samples);
    return this.push(samples);
  }

  /** Returns `samples` samples standing in for a lost frame. */
  conceal(samples: number): Int16Array {
    if (!(Number.isInteger(samples) && samples >= 0)) throw new RangeError(`samples must be a whole number, got ${samples}`);
    const out = new Float64Array(samples);
    let done = 0;
    while (done < samples) {
      if (this.erased === 0) this.startLoss();
      else if (this.erased === STEP || this.erased === 2 * STEP) this.widenSpan();
      // Up to the next point where the span widens.
      const boundary = this.erased < 2 * STEP ? (Math.floor(this.erased / STEP) + 1) * STEP : Number.POSITIVE_INFINITY;
      const count = Math.min(samples - done, boundary - this.erased);
      this.readSpan(out, done, count, true);
      for (let i = 0; i < count; i++) out[done + i] = (out[done + i] as number) * gainAt(this.erased + i);
      done += count;
      this.erased += count;
    }
    return this.push(out);
  }

  /** Forgets the history, as for a new stream. */
  reset(): void {
    this.history.fill(0);
    this.erased = 0;
    this.seam = undefined;
  }

  private startLoss(): void {
    this.pitchBuf.set(this.history);
    this.pitch = findPitch(this.pitchBuf);
    this.pOverlap = this.pitch >> 2;
    const n = this.pOverlap;
    this.lastQ.set(this.pitchBuf.subarray(HISTORY_LEN - n));
    this.spanOffset = 0;
    this.spanLen = this.pitch;
    this.seam = undefined;
    // The held-back end of the real signal fades into the samples one period earlier, so the
    // first repeated period follows it without a step; none of it has been output yet.
    this.smoothSpanEnd();
    this.history.set(this.pitchBuf.subarray(HISTORY_LEN - n), HISTORY_LEN - n);
  }

  /**
   * Appendix I: 10 and 20 ms into the loss, repeat one more period of older history. The
   * quarter period the old span would have played next fades into the widened span's output.
   */
  private widenSpan(): void {
    const tail = new Float64Array(this.pOverlap);
    const saved = this.spanOffset;
    this.readSpan(tail, 0, tail.length, false);
    this.spanOffset = saved;
    while (this.spanOffset > this.pitch) this.spanOffset -= this.pitch;
    this.spanLen += this.pitch;
    this.smoothSpanEnd();
    this.seam = { tail, pos: 0 };
  }

  /** Cross-fades the span's last quarter period from the real samples into those just before the span. */
  private smoothSpanEnd(): void {
    const n = this.pOverlap;
    const start = HISTORY_LEN - this.spanLen;
    for (let i = 0; i < n; i++) {
      const rw = (i + 1) / n;
      this.pitchBuf[HISTORY_LEN - n + i] = (this.lastQ[i] as number) * (1 - rw) + (this.pitchBuf[start - n + i] as number) * rw;
    }
  }

  /** Reads `count` samples of the repeated span into out[at…], through a pending seam if `throughSeam`. */
  private readSpan(out: Float64Array, at: number, count: number, throughSeam: boolean): void {
    const start = HISTORY_LEN - this.spanLen;
    for (let i = 0; i < count; i++) {
      let v = this.pitchBuf[start + this.spanOffset] as number;
      if (++this.spanOffset === this.spanLen) this.spanOffset = 0;
      const seam = throughSeam ? this.seam : undefined;
      if (seam) {
        const rw = (seam.pos + 1) / seam.tail.length;
        v = (seam.tail[seam.pos] as number) * (1 - rw) + v * rw;
        if (++seam.pos === seam.tail.length) this.seam = undefined;
      }
      out[at + i] = v;
    }
  }

  /** Appendix I: the first real samples after a loss fade in over the continued (attenuated) synthesis. */
  private mergeInto(frame: Float64Array): void {
    const steps = Math.ceil(this.erased / STEP);
    const len = Math.min(this.pOverlap + (steps - 1) * MERGE_GROWTH_PER_STEP, STEP, frame.length);
    const synth = new Float64Array(len);
    this.readSpan(synth, 0, len, true);
    const gain = gainAt(this.erased);
    for (let i = 0; i < len; i++) {
      const rw = (i + 1) / len;
      frame[i] = (synth[i] as number) * gain * (1 - rw) + (frame[i] as number) * rw;
    }
    this.erased = 0;
  }

  /** Appends `samples` to the history and returns the same number of samples, delayed. */
  private push(samples: Float64Array): Int16Array {
    const n = samples.length;
    const out = new Int16Array(n);
    // The output reads history then samples as one joined sequence, from HISTORY_LEN − PLC_DELAY_SAMPLES.
    const from = HISTORY_LEN - PLC_DELAY_SAMPLES;
    const fromHistory = Math.min(n, PLC_DELAY_SAMPLES);
    for (let i = 0; i < fromHistory; i++) out[i] = toInt16(this.history[from + i] as number);
    for (let i = fromHistory; i < n; i++) out[i] = toInt16(samples[i - PLC_DELAY_SAMPLES] as number);
    // The history keeps the last HISTORY_LEN samples of history + samples, shifted in place.
    if (n >= HISTORY_LEN) {
      this.history.set(samples.subarray(n - HISTORY_LEN));
    } else {
      this.history.copyWithin(0, n);
      this.history.set(samples, HISTORY_LEN - n);
    }
    return out;
  }
}

/** The gain `erased` samples into a loss: 1 for 10 ms, then down 20 % per 10 ms to 0 at 60 ms. */
function gainAt(erased: number): number {
  if (erased < STEP) return 1;
  if (erased >= SILENT_AFTER) return 0;
  return 1 - ((erased - STEP) * ATTENUATION_PER_STEP) / STEP;
}

/**
 * Appendix I's pitch search: the lag in PITCH_MIN..PITCH_MAX whose window best matches the last
 * CORR_LEN samples (correlation normalised by the lagged window's energy), first every NDEC lags,
 * then at the lags beside the best. Ties go to the shorter lag.
 */
function findPitch(buf: Float64Array): number {
  const l = HISTORY_LEN - CORR_LEN;
  const r0 = HISTORY_LEN - CORR_BUF_LEN;
  const score = (shift: number, step: number): number => {
    let energy = 0;
    let corr = 0;
    for (let i = 0; i < CORR_LEN; i += step) {
      const rv = buf[r0 + shift + i] as number;
      energy += rv * rv;
      corr += rv * (buf[l + i] as number);
    }
    return corr / Math.sqrt(Math.max(energy, CORR_MIN_POWER));
  };
  let best = Number.NEGATIVE_INFINITY;
  let bestShift = 0;
  for (let shift = 0; shift <= PITCH_DIFF; shift += NDEC) {
    const c = score(shift, NDEC);
    if (c >= best) [best, bestShift] = [c, shift];
  }
  const from = Math.max(0, bestShift - (NDEC - 1));
  const to = Math.min(PITCH_DIFF, bestShift + (NDEC - 1));
  best = Number.NEGATIVE_INFINITY;
  for (let shift = from; shift <= to; shift++) {
    const c = score(shift, 1);
    if (c >= best) [best, bestShift] = [c, shift];
  }
  return PITCH_MAX - bestShift;
}

function toInt16(x: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(x)));
}
