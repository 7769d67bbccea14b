// RFC 3262 §3: the UAS side of reliable provisional responses (100rel). Each reliable 1xx gets
// an RSeq and is retransmitted (T1, doubling) until a PRACK with a matching RAck arrives or
// 64*T1 passes; only one may be unacknowledged at a time.
export type ReliableProvisionalState = 'idle' | 'awaitingPrack' | 'failed';

export type ReliableProvisionalAction =
  | { kind: 'send'; rseq: number }
  | { kind: 'wakeAt'; atMs: number }
  | { kind: 'acknowledged'; rseq: number }
  /** §3: no PRACK within 64*T1: the UAS should reject the INVITE with a 5xx. */
  | { kind: 'failed' };

export interface RAck {
  readonly rseq: number;
  readonly cseq: number;
  readonly method: string;
}

export function parseRAck(value: string): RAck | undefined {
  const m = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(value);
  if (!m) return undefined;
  const rseq = Number(m[1]);
  const cseq = Number(m[2]);
  if (rseq < 1 || rseq > 0xffffffff || cseq > 0x7fffffff) return undefined;
  return { rseq, cseq, method: (m[3] ?? '').toUpperCase() };
}

export class ReliableProvisionalUas {
  private stateNow: ReliableProvisionalState = 'idle';
  private rseqNo: number;
  private firstSentMs = 0;
  private intervalMs = 0;
  private nextAtMs = 0;

  /**
   * @param inviteCseq CSeq number of the INVITE the responses answer
   * @param initialRseq §3: chosen at random between 1 and 2**31 - 1
   */
  constructor(
    private readonly inviteCseq: number,
    private readonly t1Ms: number,
    initialRseq = 1 + Math.floor(Math.random() * 0x7ffffffe),
  ) {
    this.rseqNo = initialRseq - 1;
  }

  get state(): ReliableProvisionalState {
    return this.stateNow;
  }

  get rseq(): number {
    return this.rseqNo;
  }

  /** Whether a new reliable provisional response may be sent now. */
  get canSend(): boolean {
    return this.stateNow === 'idle';
  }

  /** Sends the next reliable provisional response (the caller puts `RSeq: rseq` and `Require: 100rel` in it). */
  send(nowMs: number): ReliableProvisionalAction[] {
    if (this.stateNow !== 'idle') throw new Error(`cannot send a reliable provisional response in state ${this.stateNow}`);
    this.stateNow = 'awaitingPrack';
    this.rseqNo += 1;
    this.firstSentMs = nowMs;
    this.intervalMs = this.t1Ms;
    this.nextAtMs = nowMs + this.intervalMs;
    return [{ kind: 'send', rseq: this.rseqNo }, { kind: 'wakeAt', atMs: this.nextAtMs }];
  }

  wake(nowMs: number): ReliableProvisionalAction[] {
    if (this.stateNow !== 'awaitingPrack' || nowMs < this.nextAtMs) return [];
    if (nowMs - this.firstSentMs >= 64 * this.t1Ms) {
      this.stateNow = 'failed';
      return [{ kind: 'failed' }];
    }
    this.intervalMs *= 2;
    this.nextAtMs = Math.min(nowMs + this.intervalMs, this.firstSentMs + 64 * this.t1Ms);
    return [{ kind: 'send', rseq: this.rseqNo }, { kind: 'wakeAt', atMs: this.nextAtMs }];
  }

  /** A PRACK arrived: 200 if it acknowledges the outstanding response, else 481 (§3). */
  prack(rack: RAck | undefined): { status: 200 | 481; actions: ReliableProvisionalAction[] } {
    if (this.stateNow === 'awaitingPrack' && rack && rack.rseq === this.rseqNo && rack.cseq === this.inviteCseq && rack.method === 'INVITE') {
      this.stateNow = 'idle';
      return { status: 200, actions: [{ kind: 'acknowledged', rseq: rack.rseq }] };
    }
    // A PRACK retransmission for an already acknowledged response is answered 200 by the
    // transaction layer; anything else does not match.
    return { status: 481, actions: [] };
  }

  /** The final response was sent: stop retransmitting (§3: a final response ends it). */
  finish(): void {
    if (this.stateNow === 'awaitingPrack') this.stateNow = 'idle';
  }
}
