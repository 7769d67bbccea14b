// A seeded model of an impaired one-way network path: for each datagram, lost or delivered after
// a delay of base + N(0, jitter) or base ± jitter uniformly (at least minDelayMs), sometimes held back further, sometimes
// duplicated. Packets reorder by themselves when a later one draws a shorter delay. Pure: the
// UDP relay (udp-impairment-relay.ts) and the jitter buffer bench replay the same decisions from
// the same seed, so both mean the same thing by "30 ms jitter, 2 % loss".
import { mulberry32 } from '../../helpers/seeded-random.js';

export interface ImpairmentSpec {
  readonly seed: number;
  /** Probability that a datagram is lost, 0..1. */
  readonly lossProbability: number;
  /** Mean one-way delay before jitter. */
  readonly baseDelayMs: number;
  /**
   * The delay's spread around baseDelayMs: the standard deviation of a normal spread, or the
   * half-width of a uniform one (what `tc … netem delay 80ms 30ms` does without a table).
   */
  readonly jitterMs: number;
  /** 'normal' (default: the harsher tail) or 'uniform' (netem's reading of a delay spread). */
  readonly jitterDistribution?: 'normal' | 'uniform';
  /** No datagram is faster than this (the normal tail is cut here). */
  readonly minDelayMs: number;
  /** Probability that a datagram is held back holdBackMs more (a burst of reordering); default 0. */
  readonly holdBackProbability?: number;
  readonly holdBackMs?: number;
  /** Probability that a delivered datagram is delivered twice, the copy with its own delay; default 0. */
  readonly duplicateProbability?: number;
}

/**
 * The path of the issue (#6) and of test/bench/jitter-buffer.bench.ts: 80 ms + N(0, 30 ms), at
 * least 10 ms, 2 % loss, 1 % of packets held back 50 ms more.
 */
export const JITTER_30MS_LOSS_2PCT: Omit<ImpairmentSpec, 'seed'> = {
  lossProbability: 0.02,
  baseDelayMs: 80,
  jitterMs: 30,
  minDelayMs: 10,
  holdBackProbability: 0.01,
  holdBackMs: 50,
};

export type ImpairmentDecision =
  | { readonly kind: 'drop' }
  /** One delay per copy to deliver: two when the datagram is duplicated. */
  | { readonly kind: 'deliver'; readonly delaysMs: readonly number[] };

/** Box–Muller: a standard normal deviate from two uniform draws. */
export function standardNormal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export class ImpairmentModel {
  private readonly rand: () => number;

  constructor(readonly spec: ImpairmentSpec) {
    for (const k of ['lossProbability', 'holdBackProbability', 'duplicateProbability'] as const) {
      const p = spec[k] ?? 0;
      if (!(p >= 0 && p <= 1)) throw new RangeError(`${k} must be within 0..1, got ${p}`);
    }
    for (const k of ['baseDelayMs', 'jitterMs', 'minDelayMs', 'holdBackMs'] as const) {
      const v = spec[k] ?? 0;
      if (!(v >= 0 && Number.isFinite(v))) throw new RangeError(`${k} must be a finite number ≥ 0, got ${v}`);
    }
    this.rand = mulberry32(spec.seed);
  }

  /**
   * The fate of the next datagram. The draws are made in a fixed order (loss, delay, hold-back,
   * duplicate), and a feature with probability 0 draws nothing, so a given seed always yields
   * the same sequence of decisions for the same spec.
   */
  next(): ImpairmentDecision {
    if (this.rand() < this.spec.lossProbability) return { kind: 'drop' };
    const delaysMs = [this.delay()];
    const dup = this.spec.duplicateProbability ?? 0;
    if (dup > 0 && this.rand() < dup) delaysMs.push(this.delay());
    return { kind: 'deliver', delaysMs };
  }

  private delay(): number {
    const spread = this.spec.jitterDistribution === 'uniform' ? 2 * this.rand() - 1 : standardNormal(this.rand);
    let ms = Math.max(this.spec.minDelayMs, this.spec.baseDelayMs + this.spec.jitterMs * spread);
    const hold = this.spec.holdBackProbability ?? 0;
    if (hold > 0 && this.rand() < hold) ms += this.spec.holdBackMs ?? 0;
    return ms;
  }
}
