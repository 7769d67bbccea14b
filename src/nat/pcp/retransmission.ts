// Request retransmission for PCP (RFC 6887 §8.1.1, the RFC 3315 scheme: IRT 3 s, doubling with
// ±10 % jitter, capped at MRT 1024 s, MRC/MRD 0 = no limit) and NAT-PMP (RFC 6886 §3.1: 250 ms,
// doubling, 9 sends). Pure: the driver calls start/wake with its clock's time and does the sends.

export interface RetransmissionOptions {
  /** IRT: the first timeout. */
  readonly initialRtoMs: number;
  /** MRT: no timeout grows past this (before jitter). */
  readonly maxRtoMs: number;
  /** MRC: sends in all, 0 = unlimited. */
  readonly maxSends: number;
  /** MRD: give up this long after the first send, 0 = unlimited. */
  readonly maxDurationMs: number;
  /** RAND is drawn from [-jitter, +jitter]. */
  readonly jitter: number;
}

export const PCP_RETRANSMISSION: RetransmissionOptions = { initialRtoMs: 3000, maxRtoMs: 1_024_000, maxSends: 0, maxDurationMs: 0, jitter: 0.1 };
export const NATPMP_RETRANSMISSION: RetransmissionOptions = { initialRtoMs: 250, maxRtoMs: 64_000, maxSends: 9, maxDurationMs: 0, jitter: 0 };

export type RetransmissionStep = { readonly kind: 'send'; readonly wakeAtMs: number } | { readonly kind: 'give-up' };

export class Retransmission {
  private startedAtMs = 0;
  private rtoMs = 0;
  private sends = 0;

  constructor(
    private readonly o: RetransmissionOptions,
    /** Uniform in [0, 1); injected so tests are deterministic. */
    private readonly random: () => number = Math.random,
  ) {}

  /** The first send: RT = (1 + RAND) × IRT. */
  start(nowMs: number): RetransmissionStep {
    this.startedAtMs = nowMs;
    this.sends = 1;
    this.rtoMs = this.jittered(this.o.initialRtoMs);
    return { kind: 'send', wakeAtMs: this.deadline(nowMs + this.rtoMs) };
  }

  /** The timeout fired with no answer: send again with RT = (1 + RAND) × 2 × RTprev (≤ MRT), or stop. */
  wake(nowMs: number): RetransmissionStep {
    if (this.o.maxSends > 0 && this.sends >= this.o.maxSends) return { kind: 'give-up' };
    if (this.o.maxDurationMs > 0 && nowMs - this.startedAtMs >= this.o.maxDurationMs) return { kind: 'give-up' };
    this.sends++;
    const doubled = this.jittered(2 * this.rtoMs);
    this.rtoMs = doubled > this.o.maxRtoMs ? this.jittered(this.o.maxRtoMs) : doubled;
    return { kind: 'send', wakeAtMs: this.deadline(nowMs + this.rtoMs) };
  }

  get sendCount(): number {
    return this.sends;
  }

  private jittered(ms: number): number {
    return ms * (1 + (2 * this.random() - 1) * this.o.jitter);
  }

  /** MRD caps the last wait too, so the give-up comes on time. */
  private deadline(atMs: number): number {
    return this.o.maxDurationMs > 0 ? Math.min(atMs, this.startedAtMs + this.o.maxDurationMs) : atMs;
  }
}
