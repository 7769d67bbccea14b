// Reception statistics of one RTP source: RFC 3550 Appendix A.1 (sequence number validation
// and the extended highest sequence number), A.3 (expected and lost packets) and A.8
// (interarrival jitter). Pure: the caller passes the arrival time.

const RTP_SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;
/** Recently seen extended sequence numbers, for telling a duplicate from a reordered packet. */
const HISTORY = 128;

/**
 * - `probation`: the source is not yet valid (A.1 wants MIN_SEQUENTIAL packets in sequence);
 * - `valid`: in sequence, with a permissible gap, or reordered within MAX_MISORDER;
 * - `restart`: the second packet after a large jump; the peer restarted its sequence, stats re-sync;
 * - `jump`: a large jump seen once; dropped until the next packet confirms it;
 * - `duplicate`: a sequence number already received.
 */
export type SequenceVerdict = 'probation' | 'valid' | 'restart' | 'jump' | 'duplicate';

export interface ReceptionSnapshot {
  /** Distinct packets counted (duplicates and dropped jumps excluded). */
  readonly received: number;
  /** A.3: extended highest sequence number minus the base, plus one. */
  readonly expected: number;
  /** A.3: expected − received, over every sequence run since the first packet. */
  readonly lost: number;
  readonly duplicates: number;
  readonly extendedHighestSeq: number;
  /** A.8 estimate in RTP timestamp units. */
  readonly jitter: number;
}

export class RtpReceptionStats {
  private started = false;
  private probation = MIN_SEQUENTIAL;
  private maxSeq = 0;
  private cycles = 0;
  private baseExtended = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private received = 0;
  /** Counts carried over a restart, so `lost` and `received` never go backwards. */
  private priorReceived = 0;
  private priorExpected = 0;
  private duplicates = 0;
  private readonly history = new Float64Array(HISTORY).fill(Number.NaN);
  private transit: number | undefined;
  private jitter = 0;

  constructor(private readonly clockRateHz: number) {}

  receive(seq: number, rtpTimestamp: number, arrivalMs: number): SequenceVerdict {
    const verdict = this.updateSeq(seq & 0xffff);
    if (verdict === 'valid' || verdict === 'restart' || verdict === 'probation') this.updateJitter(rtpTimestamp, arrivalMs);
    return verdict;
  }

  snapshot(): ReceptionSnapshot {
    const expected = this.priorExpected + (this.probation > 0 ? 0 : this.extendedMax() - this.baseExtended + 1);
    const received = this.priorReceived + this.received;
    return {
      received,
      expected,
      lost: expected - received,
      duplicates: this.duplicates,
      extendedHighestSeq: this.extendedMax(),
      jitter: this.jitter,
    };
  }

  get jitterMs(): number {
    return (this.jitter * 1000) / this.clockRateHz;
  }

  private extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  // RFC 3550 A.1 update_seq(), except that the probation packets count once the source is valid
  // (the base is the first of them), so a stream's first packet is not reported as lost.
  private updateSeq(seq: number): SequenceVerdict {
    if (!this.started) {
      this.started = true;
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = MIN_SEQUENTIAL;
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.baseExtended = seq - (MIN_SEQUENTIAL - 1);
          this.received = MIN_SEQUENTIAL;
          for (let k = 0; k < MIN_SEQUENTIAL; k++) this.remember(seq - k);
          return 'valid';
        }
      } else {
        this.probation = MIN_SEQUENTIAL - 1;
        this.maxSeq = seq;
      }
      return 'probation';
    }
    let extended: number;
    let verdict: SequenceVerdict = 'valid';
    if (udelta < MAX_DROPOUT) {
      // In order, with a permissible gap (or an exact repeat of the highest, udelta 0).
      const cycles = seq < this.maxSeq ? this.cycles + RTP_SEQ_MOD : this.cycles;
      extended = cycles + seq;
      if (this.seen(extended)) return this.duplicate();
      this.cycles = cycles;
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) & 0xffff;
        return 'jump';
      }
      // Two sequential packets after a jump: the sender restarted without telling us (A.1).
      this.priorExpected += this.extendedMax() - this.baseExtended + 1;
      this.priorReceived += this.received;
      this.initSeq(seq);
      this.baseExtended = seq;
      this.transit = undefined;
      extended = seq;
      verdict = 'restart';
    } else {
      // Reordered: older than the highest by less than MAX_MISORDER, possibly from the previous cycle.
      extended = this.extendedMax() - ((this.maxSeq - seq) & 0xffff);
      if (this.seen(extended)) return this.duplicate();
    }
    this.remember(extended);
    this.received++;
    return verdict;
  }

  private initSeq(seq: number): void {
    this.maxSeq = seq;
    this.cycles = 0;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.received = 0;
    this.history.fill(Number.NaN);
  }

  private seen(extended: number): boolean {
    return this.history[slot(extended)] === extended;
  }

  private remember(extended: number): void {
    this.history[slot(extended)] = extended;
  }

  private duplicate(): SequenceVerdict {
    this.duplicates++;
    return 'duplicate';
  }

  // RFC 3550 A.8: J += (|D| − J) / 16, with D the change in transit time, in timestamp units.
  // The RTP timestamp difference is taken modulo 2^32 so a wrap is a small step, not a huge one.
  private updateJitter(rtpTimestamp: number, arrivalMs: number): void {
    const arrival = (arrivalMs * this.clockRateHz) / 1000;
    const transit = arrival - (rtpTimestamp >>> 0);
    if (this.transit !== undefined) {
      const d = transit - this.transit;
      const wrapped = d - Math.round(d / 2 ** 32) * 2 ** 32;
      this.jitter += (Math.abs(wrapped) - this.jitter) / 16;
    }
    this.transit = transit;
  }
}

function slot(extended: number): number {
  return ((extended % HISTORY) + HISTORY) % HISTORY;
}
