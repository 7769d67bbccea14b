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

/** A source's bucket, with the admissions (counted) at which it was last seen and took its place in the LRU order. */
class SourceBucket extends TokenBucket {
  seen = 0;
  placed = 0;
}

export class SourceRateLimiter {
  /**
   * Insertion order is the LRU order, brought up to date only when a source must be forgotten:
   * moving a source to the recent end on every request (delete, then set) made V8 rebuild the
   * Map's table nearly every time, and a long-lived Map's new table goes straight to the old
   * generation, so at thousands of requests a second that alone brought a full GC every few seconds.
   */
  private readonly buckets = new Map<string, SourceBucket>();
  private ratePerS: number;
  private burst: number;
  private readonly maxSources: number;
  private admissions = 0;

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
    const now = ++this.admissions;
    let bucket = this.buckets.get(source);
    if (!bucket) {
      while (this.buckets.size > 0 && this.buckets.size >= this.maxSources) this.forgetLeastRecent();
      bucket = new SourceBucket(this.ratePerS, this.burst, nowMs);
      bucket.placed = now;
      this.buckets.set(source, bucket);
    }
    bucket.seen = now;
    return bucket.take(nowMs) ? ADMITTED : { ok: false, retryAfterS: Math.max(1, bucket.waitS(nowMs)) };
  }

  /**
   * Forgets the least recently seen source. The oldest in insertion order is it unless it was seen
   * since it took its place; then it moves to the recent end and the next one is looked at. Every
   * source behind the first one not seen since has a later place, so was seen later: exact LRU,
   * each request paying for at most one move, and only when the map is full.
   */
  private forgetLeastRecent(): void {
    for (const [source, bucket] of this.buckets) {
      this.buckets.delete(source);
      if (bucket.seen === bucket.placed) return;
      bucket.placed = bucket.seen;
      this.buckets.set(source, bucket);
    }
  }
}
