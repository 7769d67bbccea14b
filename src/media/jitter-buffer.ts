// An adaptive jitter buffer for one audio stream of fixed-duration frames (one frame per RTP
// packet, as G.711 at 10–60 ms ptime). Pure: put() takes packets with their arrival time and
// get() is called once per frame period by the playout clock with the current time.
//
// Frames are keyed by extended RTP timestamp (RFC 3550 §5.1: both sequence number and timestamp
// wrap), so reordering is undone by the key; the sequence number tells a duplicate and a
// silence gap (RFC 3551 §4.1: a talk spurt resumes with the next sequence number but a later
// timestamp) from a loss.
//
// Delay. The buffer's delay is how long after the mean packet arrives its frame plays:
// now − RTP time − d̂, with d̂ the mean transit of PlayoutDelayEstimator. Its target is
// k · jitter clamped to min..max. The delay changes one frame at a time, at the playout clock:
// - too short (below target − ½ frame): a frame is inserted at once, as silence inside a silence
//   gap and as concealment otherwise. Growing fast keeps late losses, the worse harm, rare.
// - too long (above target + ½ frame): a frame is dropped at once when that is free (the frame
//   is missing anyway, inside a silence gap, or `isQuiet` says it is quiet), otherwise only after
//   the delay has stayed too long for `shrinkHoldMs`, and then one frame per `shrinkHoldMs`.
// The same two rules absorb clock drift: a sender clock faster than the playout clock fills
// the buffer until a frame is dropped, a slower one drains it until one is inserted.
import { PlayoutDelayEstimator } from './playout-delay-estimator.js';

export interface JitterPacket {
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly payload: Uint8Array;
  readonly arrivalMs: number;
}

export type JitterBufferOutput =
  | { readonly kind: 'frame'; readonly payload: Uint8Array }
  /** A frame is missing: play the packet loss concealer's output. */
  | { readonly kind: 'conceal' }
  /** Nothing to play: before the first frame, or in a silence gap of the sender. */
  | { readonly kind: 'silence' };

/** What put() did with a packet. */
export type JitterPutVerdict = 'buffered' | 'duplicate' | 'late' | 'discarded';

export interface JitterBufferOptions {
  /** Duration of every frame; default 20. */
  readonly frameMs?: number;
  /** RTP clock rate; default 8000. */
  readonly clockRateHz?: number;
  /** Bounds of the target delay; default 20 and 200 ms. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Target delay until jitter has been measured; default 60 ms. */
  readonly initialDelayMs?: number;
  /** k in target = k · jitter (mean deviation of transit); default 3. */
  readonly jitterMultiplier?: number;
  /** Most frames held; default enough for twice maxDelayMs. Packets further ahead are discarded. */
  readonly maxFrames?: number;
  /** How long the delay must stay above target before a frame that is not free is dropped; default 1000 ms. */
  readonly shrinkHoldMs?: number;
  /** Says whether a frame is quiet enough to drop unheard (for G.711, codes near zero level). */
  readonly isQuiet?: (payload: Uint8Array) => boolean;
}

export interface JitterBufferStats {
  /** Packets given to put(), whatever became of them. */
  readonly received: number;
  /** Packets that arrived after their frame's playout time, dropped. */
  readonly late: number;
  /** Frames due for playout whose packet had not arrived (and did not arrive late). */
  readonly lost: number;
  /** `conceal` outputs: lost frames, and frames inserted to grow the delay. */
  readonly concealed: number;
  readonly duplicates: number;
  /** Packets outside the buffer's window (too far ahead, or beyond maxFrames). */
  readonly discarded: number;
  /** Frames dropped to shrink the delay. */
  readonly dropped: number;
  /** Frames (concealed or silent) inserted to grow the delay. */
  readonly inserted: number;
  /** How long after the mean packet's arrival the next frame will play, as of the last get(); 0 before playout starts. */
  readonly currentDelayMs: number;
  readonly targetDelayMs: number;
  /** Mean deviation of the packets' transit times. */
  readonly jitterMs: number;
  readonly bufferedFrames: number;
}

type Counters = { -readonly [K in 'received' | 'late' | 'lost' | 'concealed' | 'duplicates' | 'discarded' | 'dropped' | 'inserted']: number };

interface Entry {
  readonly seq: number;
  readonly payload: Uint8Array;
}

type Outcome = 'played' | 'missed' | 'late' | 'dropped' | 'silence';

/** Outcomes of this many recent frames are kept, to classify a late packet or a duplicate. */
const OUTCOME_HISTORY_FRAMES = 64;
/** This many packets in sequence, all outside the window, mean the sender jumped: start over. */
const RESYNC_AFTER = 8;

export class JitterBuffer {
  private readonly frameMs: number;
  private readonly frameTs: number;
  private readonly tsPerMs: number;
  private readonly maxFrames: number;
  private readonly shrinkHoldMs: number;
  private readonly isQuiet: ((payload: Uint8Array) => boolean) | undefined;
  private readonly estimator: PlayoutDelayEstimator;
  private readonly frames = new Map<number, Entry>();
  /** Recent playout outcomes by extended timestamp, oldest first. */
  private readonly outcomes = new Map<number, Outcome>();
  /** How many of the outcomes are 'missed': with none, a packet in sequence has nothing to reclassify. */
  private missedOutcomes = 0;
  private playing = false;
  /** Extended timestamp of the next frame to play. */
  private nextTs = 0;
  private maxTs: number | undefined;
  private maxSeq: number | undefined;
  private lastPlayed: { seq: number; ts: number } | undefined;
  /** Frames counted lost since lastPlayed: all silence, if the next packet in sequence turns up later. */
  private lostSinceLastPlayed = 0;
  private aboveSinceMs: number | undefined;
  private farRun: { seq: number; ts: number; count: number } | undefined;
  private currentDelayMs = 0;
  private readonly counts: Counters = { received: 0, late: 0, lost: 0, concealed: 0, duplicates: 0, discarded: 0, dropped: 0, inserted: 0 };

  constructor(opts: JitterBufferOptions = {}) {
    this.frameMs = opts.frameMs ?? 20;
    const clockRateHz = opts.clockRateHz ?? 8000;
    if (!(this.frameMs > 0)) throw new RangeError(`frameMs must be positive, got ${this.frameMs}`);
    this.frameTs = (clockRateHz * this.frameMs) / 1000;
    if (!Number.isInteger(this.frameTs) || this.frameTs <= 0) {
      throw new RangeError(`${this.frameMs} ms at ${clockRateHz} Hz is not a whole number of timestamp units`);
    }
    this.tsPerMs = clockRateHz / 1000;
    const maxDelayMs = opts.maxDelayMs ?? 200;
    this.maxFrames = opts.maxFrames ?? Math.ceil((2 * maxDelayMs) / this.frameMs) + 2;
    if (!(Number.isInteger(this.maxFrames) && this.maxFrames >= 2)) throw new RangeError(`maxFrames must be an integer ≥ 2, got ${this.maxFrames}`);
    this.shrinkHoldMs = opts.shrinkHoldMs ?? 1000;
    this.isQuiet = opts.isQuiet;
    this.estimator = new PlayoutDelayEstimator({
      minDelayMs: opts.minDelayMs ?? 20,
      maxDelayMs,
      initialDelayMs: opts.initialDelayMs ?? 60,
      jitterMultiplier: opts.jitterMultiplier ?? 3,
    });
  }

  put(packet: JitterPacket): JitterPutVerdict {
    this.counts.received++;
    const tsReference = this.playing ? Math.max(this.maxTs ?? this.nextTs, this.nextTs) : this.maxTs;
    let ts = unwrap(packet.timestamp >>> 0, tsReference, 0x1_0000_0000);
    if (this.playing && this.isFar(ts)) {
      if (!this.continuesFarRun(packet)) return this.count('discarded', 'discarded');
      this.resync();
      ts = packet.timestamp >>> 0;
    }
    this.farRun = undefined;
    const seq = unwrap(packet.sequenceNumber & 0xffff, this.maxSeq, 0x1_0000);

    if (this.frames.has(ts)) return this.count('duplicates', 'duplicate');
    if (this.playing && ts < this.nextTs - this.frameTs / 2) return this.putPast(ts, packet.arrivalMs);

    this.estimator.update(this.transitMs(ts, packet.arrivalMs));
    this.frames.set(ts, { seq, payload: packet.payload });
    if (!this.trim(ts)) return 'discarded';
    this.maxSeq = Math.max(this.maxSeq ?? seq, seq);
    this.maxTs = Math.max(this.maxTs ?? ts, ts);
    if (this.lastPlayed && seq === this.lastPlayed.seq + 1) this.reclassifySilence(ts);
    return 'buffered';
  }

  get(nowMs: number): JitterBufferOutput {
    const mean = this.estimator.meanTransitMs;
    const half = this.frameMs / 2;
    if (!this.playing) {
      const first = this.lowestTs();
      if (first === undefined || mean === undefined) return { kind: 'silence' };
      if (this.delayAt(nowMs, first, mean) < this.estimator.targetDelayMs - half) return { kind: 'silence' };
      this.playing = true;
      this.nextTs = first;
    }
    const target = this.estimator.targetDelayMs;
    let delay = this.delayAt(nowMs, this.nextTs, mean as number);
    this.currentDelayMs = delay;

    if (delay < target - half) {
      this.aboveSinceMs = undefined;
      this.counts.inserted++;
      this.currentDelayMs = delay + this.frameMs;
      if (this.due() === undefined && this.inSilenceGap()) return { kind: 'silence' };
      this.counts.concealed++;
      return { kind: 'conceal' };
    }
    if (delay > target + half) {
      this.aboveSinceMs ??= nowMs;
      if (this.isFreeToDrop() || nowMs - this.aboveSinceMs >= this.shrinkHoldMs) {
        this.dropNext();
        this.aboveSinceMs = nowMs;
        delay -= this.frameMs;
        this.currentDelayMs = delay;
      }
    } else {
      this.aboveSinceMs = undefined;
    }
    return this.playNext();
  }

  get stats(): JitterBufferStats {
    return {
      ...this.counts,
      currentDelayMs: this.currentDelayMs,
      targetDelayMs: this.estimator.targetDelayMs,
      jitterMs: this.estimator.jitterMs,
      bufferedFrames: this.frames.size,
    };
  }

  /**
   * The frame due now: the oldest buffered one, if it is within half a frame of the playout
   * point. Playing it re-aligns the playout point to its timestamp, so a sender that resumes
   * off the old frame grid after a silence is followed. Older frames (off-grid leftovers) go.
   */
  private due(): number | undefined {
    for (;;) {
      const low = this.lowestTs();
      if (low === undefined || low >= this.nextTs + this.frameTs / 2) return undefined;
      if (low >= this.nextTs - this.frameTs / 2) return low;
      this.frames.delete(low);
      this.counts.discarded++;
    }
  }

  private playNext(): JitterBufferOutput {
    const ts = this.due();
    const gap = ts === undefined && this.inSilenceGap();
    this.pruneOutcomes();
    if (ts !== undefined) {
      const entry = this.frames.get(ts) as Entry;
      this.frames.delete(ts);
      this.nextTs = ts + this.frameTs;
      this.setOutcome(ts, 'played');
      this.setLastPlayed(entry.seq, ts);
      return { kind: 'frame', payload: entry.payload };
    }
    const missing = this.nextTs;
    this.nextTs += this.frameTs;
    if (gap) {
      this.setOutcome(missing, 'silence');
      return { kind: 'silence' };
    }
    this.setOutcome(missing, 'missed');
    this.countLost();
    this.counts.concealed++;
    return { kind: 'conceal' };
  }

  private dropNext(): void {
    const ts = this.due();
    if (ts !== undefined) {
      const entry = this.frames.get(ts) as Entry;
      this.frames.delete(ts);
      this.counts.dropped++;
      this.setLastPlayed(entry.seq, ts);
      this.setOutcome(ts, 'dropped');
      this.nextTs = ts + this.frameTs;
      return;
    }
    // Skipping a missing frame conceals nothing, but the frame is lost all the same.
    if (this.inSilenceGap()) {
      this.setOutcome(this.nextTs, 'silence');
    } else {
      this.setOutcome(this.nextTs, 'missed');
      this.countLost();
    }
    this.nextTs += this.frameTs;
  }

  /** Dropping the next frame is unheard: it is missing (or in a silence gap), or quiet. */
  private isFreeToDrop(): boolean {
    const ts = this.due();
    if (ts === undefined) return true;
    return this.isQuiet?.((this.frames.get(ts) as Entry).payload) ?? false;
  }

  /** A packet whose frame has already been played, dropped or concealed. */
  private putPast(ts: number, arrivalMs: number): JitterPutVerdict {
    const outcome = this.outcomes.get(ts);
    if (outcome === 'played' || outcome === 'dropped' || outcome === 'late') return this.count('duplicates', 'duplicate');
    // Late packets still measure the jitter that made them late.
    this.estimator.update(this.transitMs(ts, arrivalMs));
    if (outcome === 'missed') {
      this.counts.lost--;
      if (ts > (this.lastPlayed?.ts ?? Number.POSITIVE_INFINITY)) this.lostSinceLastPlayed--;
    }
    if (outcome !== undefined) this.setOutcome(ts, 'late');
    return this.count('late', 'late');
  }

  /** The sender skipped timestamps but no sequence number: frames concealed in between were silence, not loss. */
  private reclassifySilence(ts: number): void {
    const from = (this.lastPlayed as { ts: number }).ts;
    if (this.missedOutcomes > 0) {
      for (const [t, outcome] of this.outcomes) {
        if (t > from && t < ts && outcome === 'missed') this.setOutcome(t, 'silence');
      }
    }
    this.counts.lost -= this.lostSinceLastPlayed;
    this.lostSinceLastPlayed = 0;
  }

  private setOutcome(ts: number, outcome: Outcome): void {
    if (this.outcomes.get(ts) === 'missed') this.missedOutcomes--;
    if (outcome === 'missed') this.missedOutcomes++;
    this.outcomes.set(ts, outcome);
  }

  private setLastPlayed(seq: number, ts: number): void {
    this.lastPlayed = { seq, ts };
    this.lostSinceLastPlayed = 0;
  }

  private countLost(): void {
    this.counts.lost++;
    this.lostSinceLastPlayed++;
  }

  /** The frame due next is inside a silence gap: the next packet in sequence is buffered with a later timestamp. */
  private inSilenceGap(): boolean {
    if (!this.lastPlayed) return false;
    const low = this.lowestTs();
    if (low === undefined || low <= this.nextTs) return false;
    return (this.frames.get(low) as Entry).seq === this.lastPlayed.seq + 1;
  }

  /**
   * Bounds memory: at most maxFrames frames, and before playout starts (when the playout point
   * does not bound the window yet) a span of at most maxFrames frames. The newest frames go
   * first; false if that was the one just added.
   */
  private trim(added: number): boolean {
    let kept = true;
    for (;;) {
      const low = this.lowestTs() as number;
      const high = this.maxBufferedTs() as number;
      const spanOk = this.playing || high - low < this.maxFrames * this.frameTs;
      if (this.frames.size <= this.maxFrames && spanOk) return kept;
      this.frames.delete(high);
      this.counts.discarded++;
      if (high === added) kept = false;
    }
  }

  /** Further from the playout point than any stream that still runs in step could be. */
  private isFar(ts: number): boolean {
    const span = this.maxFrames * this.frameTs;
    return ts >= this.nextTs + span || ts < this.nextTs - Math.max(span, OUTCOME_HISTORY_FRAMES * this.frameTs);
  }

  /** Counts packets that are far away and in sequence with each other; true when there are enough to follow them. */
  private continuesFarRun(packet: JitterPacket): boolean {
    const seq = packet.sequenceNumber & 0xffff;
    const ts = packet.timestamp >>> 0;
    const run = this.farRun;
    const inStep = run !== undefined && seq === ((run.seq + 1) & 0xffff) && ((ts - run.ts) >>> 0) <= this.maxFrames * this.frameTs;
    this.farRun = { seq, ts, count: inStep ? run.count + 1 : 1 };
    return this.farRun.count >= RESYNC_AFTER;
  }

  /** The sender restarted its sequence and timestamps: forget the old stream, keep the counters and the jitter learnt. */
  private resync(): void {
    this.frames.clear();
    this.outcomes.clear();
    this.missedOutcomes = 0;
    this.playing = false;
    this.maxTs = undefined;
    this.maxSeq = undefined;
    this.lastPlayed = undefined;
    this.lostSinceLastPlayed = 0;
    this.aboveSinceMs = undefined;
    this.farRun = undefined;
    this.estimator.resetTransit();
  }

  private pruneOutcomes(): void {
    const oldest = this.nextTs - OUTCOME_HISTORY_FRAMES * this.frameTs;
    for (const [t, outcome] of this.outcomes) {
      if (t >= oldest) break;
      if (outcome === 'missed') this.missedOutcomes--;
      this.outcomes.delete(t);
    }
  }

  private delayAt(nowMs: number, ts: number, meanTransitMs: number): number {
    return nowMs - ts / this.tsPerMs - meanTransitMs;
  }

  private transitMs(ts: number, arrivalMs: number): number {
    return arrivalMs - ts / this.tsPerMs;
  }

  private lowestTs(): number | undefined {
    let low: number | undefined;
    for (const t of this.frames.keys()) if (low === undefined || t < low) low = t;
    return low;
  }

  private maxBufferedTs(): number | undefined {
    let high: number | undefined;
    for (const t of this.frames.keys()) if (high === undefined || t > high) high = t;
    return high;
  }

  private count(counter: keyof Counters, verdict: JitterPutVerdict): JitterPutVerdict {
    this.counts[counter]++;
    return verdict;
  }
}

/** RFC 3550 §5.1: the extension of a wrapping counter closest to `reference`. */
function unwrap(value: number, reference: number | undefined, modulus: number): number {
  if (reference === undefined) return value;
  const base = ((reference % modulus) + modulus) % modulus;
  let delta = (value - base) % modulus;
  if (delta < 0) delta += modulus;
  if (delta >= modulus / 2) delta -= modulus;
  return reference + delta;
}
