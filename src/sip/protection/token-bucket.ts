// A token bucket: `ratePerS` tokens a second up to `burst`; time comes from the caller (no timers).
// Counted in milli-tokens so refills of whole milliseconds add up exactly (no 0.1 + 0.1 drift).
export class TokenBucket {
  private milli: number;
  private lastMs: number;

  constructor(private ratePerS: number, private burst: number, nowMs: number) {
    this.milli = burst * 1000;
    this.lastMs = nowMs;
  }

  configure(ratePerS: number, burst: number): void {
    this.ratePerS = ratePerS;
    this.burst = burst;
    this.milli = Math.min(this.milli, burst * 1000);
  }

  private refill(nowMs: number): void {
    if (nowMs > this.lastMs) {
      // ms × tokens/s = milli-tokens
      this.milli = Math.min(this.burst * 1000, this.milli + (nowMs - this.lastMs) * this.ratePerS);
      this.lastMs = nowMs;
    }
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.milli >= 1000) {
      this.milli -= 1000;
      return true;
    }
    return false;
  }

  /** Whole seconds until the next token. */
  waitS(nowMs: number): number {
    this.refill(nowMs);
    return this.milli >= 1000 ? 0 : Math.ceil((1000 - this.milli) / this.ratePerS / 1000);
  }
}
