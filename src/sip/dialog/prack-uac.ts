// RFC 3262 §4: the UAC side. A reliable provisional response (Require: 100rel, RSeq) is
// PRACKed once; later ones must carry RSeq + 1; retransmissions are recognised and ignored.
export type PrackDecision =
  /** New in-order response: send PRACK with this RAck and process the response. */
  | { kind: 'prack'; rack: string }
  /** A retransmission of one already PRACKed (or out of order): ignore it. */
  | { kind: 'ignore'; reason: string };

export class PrackUac {
  private lastRseq: number | undefined;

  constructor(private readonly inviteCseq: number) {}

  receive(rseqHeader: string | undefined): PrackDecision {
    if (rseqHeader === undefined || !/^\s*\d{1,10}\s*$/.test(rseqHeader)) return { kind: 'ignore', reason: 'reliable provisional response without a valid RSeq' };
    const rseq = Number(rseqHeader);
    if (rseq < 1 || rseq > 0xffffffff) return { kind: 'ignore', reason: 'RSeq out of range' };
    if (this.lastRseq !== undefined) {
      if (rseq <= this.lastRseq) return { kind: 'ignore', reason: 'retransmission' };
      // §4: responses out of order are discarded; the UAS retransmits the missing one.
      if (rseq !== this.lastRseq + 1) return { kind: 'ignore', reason: 'out of order' };
    }
    this.lastRseq = rseq;
    return { kind: 'prack', rack: `${rseq} ${this.inviteCseq} INVITE` };
  }
}
