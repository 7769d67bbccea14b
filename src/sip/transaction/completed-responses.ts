// RFC 3261 §17.2.2: a non-INVITE server transaction in Completed over UDP only answers
// retransmissions of its request with its final response, until Timer J (64*T1 = 32 s). At
// thousands of requests a second those 32 s hold most of the layer's memory, and every object
// they keep alive is copied by the young-generation collector and marked by the old one. So the
// state lives here without any per-entry object or string: the transaction key and the response,
// as bytes, in one ring arena (off the JS heap), found through an open-addressing hash index in a
// typed array; the rest in typed arrays.
// Entries are first in, first out: Timer J is the same for all, so insertion order is expiry
// order, and the arena is overwritten oldest first.
// Nothing is ever copied to grow, as that stalled the event loop under a flood (doubling one arena
// to 32 MiB copied 16 MiB and faulted in 32 MiB at once: 70 ms; doubling the slot arrays to
// 100,000 took 25 ms). The arena is a list of fixed-size chunks, added as needed; the typed arrays
// and the index are made for the capacity at once, their zeroed pages only touched as slots are
// used (a few KiB while requests are few, ~3.6 MiB at the capacity); the two arrays of strings are
// made at once too (0.8 MB each on the JS heap).

import { ownString } from '../message/index.js';
import { addToProbedIndex, probedIndexSize, removeSlotFromProbedIndex } from '../../util/index.js';

export interface CompletedDestination {
  readonly transport: string;
  readonly address: string;
  readonly port: number;
}

export interface CompletedResponse {
  /** A copy: the arena slot may be reused before an asynchronous send completes. */
  readonly bytes: Buffer;
  readonly dest: CompletedDestination;
}

const CHUNK_BYTES = 1024 * 1024;
const MAX_ARENA_BYTES = 32 * 1024 * 1024;

/** FNV-1a. */
function hashBytes(b: Buffer, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h >>> 0;
}

export class CompletedResponses {
  /** The arena: `offset` o is byte o % chunkBytes of chunk o / chunkBytes; no entry spans two. */
  private readonly chunks: Buffer[] = [];
  private readonly chunkBytes: number;
  private readonly maxChunks: number;
  private readonly slots: number;
  /** Each entry is its key's UTF-8 bytes, then the response's, at `offset`. */
  private readonly offset: Uint32Array;
  private readonly length: Uint32Array;
  private readonly keyLength: Uint32Array;
  private readonly keyHash: Uint32Array;
  private readonly port: Uint16Array;
  private readonly expiresMs: Float64Array;
  private readonly addresses: Array<string | undefined>;
  private readonly transports: Array<string | undefined>;
  /**
   * Linear-probing hash index: slot + 1 per position, 0 when free; at most half full. Deletion
   * shifts later entries back, so there are no tombstones to wear it down under a flood.
   */
  private readonly index: Int32Array;
  /** A looked-up key as UTF-8 (grown when a key does not fit). */
  private scratch = Buffer.allocUnsafeSlow(512);
  /** The oldest entry's slot, and the number of entries (a ring of `slots` slots). */
  private head = 0;
  private count = 0;
  private writeAt = 0;
  /** Address strings shared between entries, so 100,000 entries from one peer hold one string. */
  private readonly interned = new Map<string, string>();

  constructor(readonly capacity = 100_000, maxArenaBytes = MAX_ARENA_BYTES, chunkBytes = CHUNK_BYTES) {
    this.chunkBytes = Math.min(chunkBytes, maxArenaBytes);
    this.maxChunks = Math.max(1, Math.floor(maxArenaBytes / this.chunkBytes));
    this.chunks.push(Buffer.allocUnsafeSlow(this.chunkBytes));
    this.slots = capacity;
    this.offset = new Uint32Array(this.slots);
    this.length = new Uint32Array(this.slots);
    this.keyLength = new Uint32Array(this.slots);
    this.keyHash = new Uint32Array(this.slots);
    this.port = new Uint16Array(this.slots);
    this.expiresMs = new Float64Array(this.slots);
    this.index = new Int32Array(probedIndexSize(capacity));
    this.addresses = new Array<string | undefined>(this.slots).fill(undefined);
    this.transports = new Array<string | undefined>(this.slots).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Keeps a final response for retransmissions until `expiresMs`. When the ring or the arena is
   * full the oldest entries go first: a late retransmission of one is then handled as a new
   * request, which is harmless for a non-INVITE request.
   */
  add(key: string, bytes: Uint8Array, dest: CompletedDestination, expiresMs: number): void {
    const keyLen = this.encode(key);
    const total = keyLen + bytes.length;
    if (total > this.chunkBytes) return;
    if (this.count === this.slots) this.dropOldest();
    // Empty: start again at slot 0, so a phone that sees few requests keeps to the first pages.
    if (this.count === 0) this.head = 0;
    const at = this.placeFor(total);
    // Free the bytes the new entry will cover, and those of a chunk's tail skipped to get there:
    // they are the oldest entries'.
    const from = at >= this.writeAt ? this.writeAt : at;
    while (this.count > 0 && this.overlapsOldest(from, at + total)) this.dropOldest();
    const slot = (this.head + this.count) % this.slots;
    const chunk = this.chunks[(at / this.chunkBytes) | 0] as Buffer;
    const local = at % this.chunkBytes;
    this.scratch.copy(chunk, local, 0, keyLen);
    chunk.set(bytes, local + keyLen);
    this.offset[slot] = at;
    this.length[slot] = total;
    this.keyLength[slot] = keyLen;
    this.keyHash[slot] = hashBytes(this.scratch, keyLen);
    this.port[slot] = dest.port;
    this.expiresMs[slot] = expiresMs;
    this.addresses[slot] = this.intern(dest.address);
    this.transports[slot] = dest.transport;
    // A key added again (a request handled anew after its entry was dropped) now means this slot.
    const pos = this.find(keyLen, this.keyHash[slot] as number);
    if (pos >= 0) this.index[pos] = slot + 1;
    else addToProbedIndex(this.index, this.keyHash, slot);
    this.count++;
    this.writeAt = at + total;
  }

  get(key: string): CompletedResponse | undefined {
    const keyLen = this.encode(key);
    const pos = this.find(keyLen, hashBytes(this.scratch, keyLen));
    if (pos < 0) return undefined;
    const slot = (this.index[pos] as number) - 1;
    const at = this.offset[slot] as number;
    const local = at % this.chunkBytes;
    return {
      bytes: Buffer.from((this.chunks[(at / this.chunkBytes) | 0] as Buffer).subarray(local + keyLen, local + (this.length[slot] as number))),
      dest: { transport: this.transports[slot] as string, address: this.addresses[slot] as string, port: this.port[slot] as number },
    };
  }

  /** Drops the entries whose Timer J has fired. */
  sweep(nowMs: number): void {
    while (this.count > 0 && (this.expiresMs[this.head] as number) <= nowMs) this.dropOldest();
    if (this.count === 0) this.interned.clear();
  }

  clear(): void {
    while (this.count > 0) this.dropOldest();
    this.interned.clear();
    this.writeAt = 0;
  }

  /**
   * Where the next response goes: at the write position, or at the start of the next chunk when
   * it does not fit in this one's rest. Chunks are added up to the limit; after that the arena is
   * a ring: past the last chunk it wraps to 0, dropping first the entries written after the write
   * position in the previous lap, which are the oldest.
   */
  private placeFor(len: number): number {
    if (this.count === 0) this.writeAt = 0;
    let at = this.writeAt;
    if ((at % this.chunkBytes) + len > this.chunkBytes) at = (((at / this.chunkBytes) | 0) + 1) * this.chunkBytes;
    if (((at / this.chunkBytes) | 0) < this.chunks.length) return at;
    if (this.chunks.length < this.maxChunks) {
      this.chunks.push(Buffer.allocUnsafeSlow(this.chunkBytes));
      return at;
    }
    while (this.count > 0 && (this.offset[this.head] as number) >= this.writeAt) this.dropOldest();
    return 0;
  }

  /** Whether the oldest entry has bytes in [from, to). */
  private overlapsOldest(from: number, to: number): boolean {
    const off = this.offset[this.head] as number;
    return from < off + (this.length[this.head] as number) && off < to;
  }

  private dropOldest(): void {
    const slot = this.head;
    // A key re-added later points at a newer slot: only the index entry that is ours goes.
    removeSlotFromProbedIndex(this.index, this.keyHash, slot);
    this.addresses[slot] = undefined;
    this.transports[slot] = undefined;
    this.head = (this.head + 1) % this.slots;
    this.count--;
  }

  /** The key as UTF-8 in the scratch buffer; its length. */
  private encode(key: string): number {
    if (key.length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(key.length * 3);
    return this.scratch.write(key, 0, 'utf8');
  }

  /** Index position of the entry whose key is the scratch buffer's first `keyLen` bytes, or -1. */
  private find(keyLen: number, hash: number): number {
    const mask = this.index.length - 1;
    for (let p = hash & mask; ; p = (p + 1) & mask) {
      const e = this.index[p] as number;
      if (e === 0) return -1;
      const slot = e - 1;
      if (this.keyHash[slot] === hash && this.keyLength[slot] === keyLen) {
        const at = this.offset[slot] as number;
        const local = at % this.chunkBytes;
        if ((this.chunks[(at / this.chunkBytes) | 0] as Buffer).compare(this.scratch, 0, keyLen, local, local + keyLen) === 0) return p;
      }
    }
  }

  private intern(address: string): string {
    const known = this.interned.get(address);
    if (known !== undefined) return known;
    if (this.interned.size >= 4096) this.interned.clear();
    const own = ownString(address);
    this.interned.set(own, own);
    return own;
  }
}
