// RFC 3261 §8.2.2.2 merged-request detection: a request without a To tag whose From tag, Call-ID
// and CSeq match one that arrived recently, with another branch, is a loop or a fork merging (482).
// The detector remembers (From tag, Call-ID, CSeq, method) → branch for a window. At thousands of
// requests a second an entry outlives a few young-generation collections, so anything it holds per
// entry ends up in the old generation and brings full GCs (a key string and a Map entry each did:
// about 0.8 MB/s at 5,000 OPTIONS/s). So it holds no per-entry object at all: entries are hashes
// in typed arrays, first in first out (the window is the same for all), found through an
// open-addressing index, and computing them builds no string.
//
// Hashes instead of the key itself: the key is two independent 32-bit hashes (64 bits), seeded
// per detector, so two different requests are taken for the same one with a chance of about
// entries / 2^64 per request (below 10^-15 with 4,096 entries): then the later one would get a
// wrong 482, which its sender retries like any 4xx to a request it did not send twice. The branch
// is one 32-bit hash: equal hashes of different branches only miss a 482 (a SHOULD).
import { randomBytes } from 'node:crypto';
import { getCSeq, getCallId, getFrom, topVia, type SipRequest } from '../message/index.js';
import { addToProbedIndex, probedIndexSize, removeSlotFromProbedIndex } from '../../util/index.js';

const FNV_PRIME = 0x01000193;
const MIX_PRIME = 0x5bd1e995;

export class MergedRequestDetector {
  private readonly keyA: Uint32Array;
  private readonly keyB: Uint32Array;
  private readonly branchHash: Uint32Array;
  private readonly atMs: Float64Array;
  /** Linear probing by keyA: slot + 1 per position, 0 when free; deletion shifts back (no tombstones). */
  private readonly index: Int32Array;
  private head = 0;
  private count = 0;
  private readonly seedA: number;
  private readonly seedB: number;
  /** The two halves of the key being looked at (set by hashKey). */
  private a = 0;
  private b = 0;

  constructor(private readonly windowMs = 32_000, private readonly maxEntries = 4096) {
    this.keyA = new Uint32Array(maxEntries);
    this.keyB = new Uint32Array(maxEntries);
    this.branchHash = new Uint32Array(maxEntries);
    this.atMs = new Float64Array(maxEntries);
    this.index = new Int32Array(probedIndexSize(maxEntries));
    const seed = randomBytes(8);
    this.seedA = seed.readUInt32LE(0);
    this.seedB = seed.readUInt32LE(4);
  }

  get size(): number {
    return this.count;
  }

  /** True when the same request arrived before with another branch (a loop or a fork merging). */
  isMerged(req: SipRequest, nowMs: number): boolean {
    if (req.method === 'ACK' || req.method === 'CANCEL') return false;
    return this.seen(getFrom(req).params.get('tag') ?? '', getCallId(req), getCSeq(req).seq, req.method, topVia(req).params.get('branch') ?? '', nowMs);
  }

  /**
   * Remembers the request (From tag, Call-ID, CSeq number and method) with its branch, unless it
   * is known already; true when it was known with another branch.
   */
  seen(fromTag: string, callId: string, cseq: number, method: string, branch: string, nowMs: number): boolean {
    while (this.count > 0 && nowMs - (this.atMs[this.head] as number) > this.windowMs) this.dropOldest();
    this.hashKey(fromTag, callId, cseq, method);
    const branchHash = hashString(branch, 0x811c9dc5);
    const pos = this.find(this.a, this.b);
    if (pos >= 0) return this.branchHash[(this.index[pos] as number) - 1] !== branchHash;
    if (this.count === this.maxEntries) this.dropOldest();
    const slot = (this.head + this.count) % this.maxEntries;
    this.keyA[slot] = this.a;
    this.keyB[slot] = this.b;
    this.branchHash[slot] = branchHash;
    this.atMs[slot] = nowMs;
    addToProbedIndex(this.index, this.keyA, slot);
    this.count++;
    return false;
  }

  /** Two independent hashes of the key's parts into `a` and `b`. */
  private hashKey(fromTag: string, callId: string, cseq: number, method: string): void {
    this.a = this.seedA;
    this.b = this.seedB;
    this.absorb(fromTag);
    this.absorb(callId);
    this.absorb(method);
    let a = Math.imul(this.a ^ cseq, FNV_PRIME);
    let b = Math.imul(this.b ^ cseq, MIX_PRIME);
    // A final avalanche, so the index's low bits depend on every input bit.
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    b ^= b >>> 13;
    b = Math.imul(b, 0xc2b2ae35);
    b ^= b >>> 16;
    this.a = a >>> 0;
    this.b = b >>> 0;
  }

  /** One part of the key, then a separator beyond any UTF-16 code unit (so no text contains it). */
  private absorb(part: string): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i <= part.length; i++) {
      const c = i < part.length ? part.charCodeAt(i) : 0x10000;
      a = Math.imul(a ^ c, FNV_PRIME);
      b = Math.imul(b ^ c, MIX_PRIME);
      b ^= b >>> 15;
    }
    this.a = a;
    this.b = b;
  }

  /** Index position of the entry with this key, or -1. */
  private find(a: number, b: number): number {
    const mask = this.index.length - 1;
    for (let p = a & mask; ; p = (p + 1) & mask) {
      const e = this.index[p] as number;
      if (e === 0) return -1;
      if (this.keyA[e - 1] === a && this.keyB[e - 1] === b) return p;
    }
  }

  private dropOldest(): void {
    removeSlotFromProbedIndex(this.index, this.keyA, this.head);
    this.head = (this.head + 1) % this.maxEntries;
    this.count--;
  }
}

/** FNV-1a over the UTF-16 code units. */
function hashString(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}
