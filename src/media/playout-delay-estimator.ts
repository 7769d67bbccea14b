// How long a jitter buffer should hold audio, from the transit times of the packets: the
// autoregressive estimate of Ramjee, Kurose, Towsley and Schulzrinne ("Adaptive playout
// mechanisms for packetized audio applications in wide-area networks", INFOCOM 1994, algorithm
// 1): a smoothed mean transit d̂ and a smoothed mean deviation v̂ from it, and playout at
// d̂ + k·v̂. Transit is arrival time minus RTP time, so the unknown clock offset between the
// two ends cancels out of every delay the jitter buffer computes from it.
//
// The target (k·v̂, clamped) rises as soon as v̂ does and falls slowly: a late packet costs an
// audible gap, a few extra milliseconds of delay cost nothing anyone hears.

export interface PlayoutDelayOptions {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** The target before any jitter has been measured. */
  readonly initialDelayMs: number;
  /** k in target = k · jitter. */
  readonly jitterMultiplier: number;
}

/** d̂ follows the mean over about 64 packets (1.3 s of 20 ms frames), long enough to be steady under jitter. */
const MEAN_GAIN = 1 / 64;
/** v̂ uses RFC 3550's gain for interarrival jitter (A.8). */
const JITTER_GAIN = 1 / 16;
/** A lower target is approached by 1/128 of the gap per packet: a time constant of 2.6 s at 50 packets/s. */
const TARGET_DECAY_GAIN = 1 / 128;

export class PlayoutDelayEstimator {
  private mean: number | undefined;
  private jitter: number;
  private target: number;
  /** Packets since the transit base was (re)set; the first ones are averaged plainly. */
  private count = 0;

  constructor(private readonly opts: PlayoutDelayOptions) {
    if (!(opts.minDelayMs >= 0 && opts.minDelayMs <= opts.maxDelayMs)) {
      throw new RangeError(`delay bounds ${opts.minDelayMs}..${opts.maxDelayMs} ms are not ordered`);
    }
    if (!(opts.jitterMultiplier > 0)) throw new RangeError(`jitterMultiplier must be positive, got ${opts.jitterMultiplier}`);
    this.target = this.clamp(opts.initialDelayMs);
    this.jitter = this.target / opts.jitterMultiplier;
  }

  /** d̂: the smoothed transit (arrival ms − RTP time in ms); undefined before the first packet. */
  get meanTransitMs(): number | undefined {
    return this.mean;
  }

  /** v̂: the smoothed mean deviation of transit from d̂. */
  get jitterMs(): number {
    return this.jitter;
  }

  get targetDelayMs(): number {
    return this.target;
  }

  /** Feeds one packet's transit time. */
  update(transitMs: number): void {
    this.count++;
    if (this.mean === undefined) {
      this.mean = transitMs;
      return;
    }
    const deviation = transitMs - this.mean;
    // Plain averages while there are fewer samples than the filter's memory, so the first
    // packet's own jitter does not bias d̂ for seconds. A deviation counts towards d̂ only up
    // to twice v̂: one packet stuck for 300 ms does not move everyone's playout, while a
    // lasting shift raises v̂ within a few packets and d̂ follows.
    const bound = Math.max(2 * this.jitter, 1);
    this.mean += Math.max(-bound, Math.min(bound, deviation)) * Math.max(MEAN_GAIN, 1 / this.count);
    this.jitter += (Math.abs(deviation) - this.jitter) * Math.max(JITTER_GAIN, 1 / this.count);
    const wanted = this.clamp(this.opts.jitterMultiplier * this.jitter);
    this.target = wanted > this.target ? wanted : this.target + (wanted - this.target) * TARGET_DECAY_GAIN;
  }

  /** Forgets d̂ (the sender's timestamps jumped), keeping what was learnt about jitter. */
  resetTransit(): void {
    this.mean = undefined;
    this.count = 0;
  }

  private clamp(ms: number): number {
    return Math.min(this.opts.maxDelayMs, Math.max(this.opts.minDelayMs, ms));
  }
}
