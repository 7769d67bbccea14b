// A cap on concurrent server transactions (registry key sip.maxServerTransactions): above it
// new requests get 503 with Retry-After (RFC 3261 §21.5.4) instead of more state.
const ACQUIRED = { ok: true } as const;

export class TransactionCap {
  private active = 0;

  constructor(private max: number, private readonly retryAfterS = 5) {}

  configure(max: number): void {
    this.max = max;
  }

  get inUse(): number {
    return this.active;
  }

  tryAcquire(): { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number } {
    if (this.active >= this.max) return { ok: false, retryAfterS: this.retryAfterS };
    this.active++;
    return ACQUIRED;
  }

  release(): void {
    if (this.active > 0) this.active--;
  }
}
