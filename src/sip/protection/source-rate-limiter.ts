// Per-source request admission: one token bucket per source address, in a bounded LRU map so
// a flood from spoofed addresses cannot grow memory (DESIGN: "degrades, never crashes").
import { TokenBucket } from './token-bucket.js';

export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

/** Shared: admitting a request allocates nothing. */
const ADMITTED: Admission = { ok: true };

export interface RateLimiterOptions {
  ratePerS: number;
  burst: number;
  /** Most sources tracked at once; the least recently seen is forgotten first. */
  maxSources?: number;
}

export class SourceRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private ratePerS: number;
  private burst: number;
  private readonly maxSources: number;

  constructor(options: RateLimiterOptions) {
    this.ratePerS = options.ratePerS;
    this.burst = options.burst;
    this.maxSources = options.maxSources ?? 10_000;
  }

  /** Live change (registry keys sip.rateLimitPerS and sip.rateLimitBurst). */
  configure(ratePerS: number, burst: number): void {
    this.ratePerS = ratePerS;
    this.burst = burst;
    for (const b of this.buckets.values()) b.configure(ratePerS, burst);
  }

  get trackedSources(): number {
    return this.buckets.size;
  }

  admit(source: string, nowMs: number): Admission {
    let bucket = this.buckets.get(source);
    if (bucket) {
      // Move to the most-recent end of the LRU order.
      this.buckets.delete(source);
    } else {
      bucket = new TokenBucket(this.ratePerS, this.burst, nowMs);
      while (this.buckets.size >= this.maxSources) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(source, bucket);
    return bucket.take(nowMs) ? ADMITTED : { ok: false, retryAfterS: Math.max(1, bucket.waitS(nowMs)) };
  }
}
