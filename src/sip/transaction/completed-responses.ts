// RFC 3261 §17.2.2: a non-INVITE server transaction in Completed over UDP only answers
// retransmissions of its request with its final response, until Timer J (64*T1 = 32 s). At
// thousands of requests a second those 32 s hold most of the layer's memory, and every object
// they keep alive is copied by the young-generation collector and marked by the old one. So the
// state lives here without any per-entry object or string: the transaction key and the response,
// as bytes, in one ring arena (off the JS heap), found through an open-addressing hash index in a
// typed array; the rest in typed arrays.
// Entries are first in, first out: Timer J is the same for all, so insertion order is expiry
// order, and the arena is overwritten oldest first.

import { ownString } from '../message/index.js';

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

/** Both stores start small (a desk phone sees a few requests a minute) and double up to their limits. */
const INITIAL_SLOTS = 256;
const INITIAL_ARENA_BYTES = 256 * 1024;
const MAX_ARENA_BYTES = 32 * 1024 * 1024;

/** Twice the slots at least, a power of two. */
function indexSizeFor(slots: number): number {
  let n = 16;
  while (n < slots * 2) n *= 2;
  return n;
}

/** FNV-1a. */
function hashBytes(b: Buffer, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h >>> 0;
}

export class CompletedResponses {
  private arena: Buffer;
  private slots: number;
  /** Each entry is its key's UTF-8 bytes, then the response's, at `offset`. */
  private offset: Uint32Array;
  private length: Uint32Array;
  private keyLength: Uint32Array;
  private keyHash: Uint32Array;
  private port: Uint16Array;
  private expiresMs: Float64Array;
  private addresses: Array<string | undefined>;
  private transports: Array<string | undefined>;
  /**
   * Linear-probing hash index: slot + 1 per position, 0 when free; at most half full. Deletion
   * shifts later entries back, so there are no tombstones to wear it down under a flood.
   */
  private index: Int32Array;
  /** A looked-up key as UTF-8 (grown when a key does not fit). */
  private scratch = Buffer.allocUnsafeSlow(512);
  /** The oldest entry's slot, and the number of entries (a ring of `slots` slots). */
  private head = 0;
  private count = 0;
  private writeAt = 0;
  /** Address strings shared between entries, so 100,000 entries from one peer hold one string. */
  private readonly interned = new Map<string, string>();

  constructor(readonly capacity = 100_000, private readonly maxArenaBytes = MAX_ARENA_BYTES) {
    this.arena = Buffer.allocUnsafeSlow(Math.min(INITIAL_ARENA_BYTES, maxArenaBytes));
    this.slots = Math.min(INITIAL_SLOTS, capacity);
    this.offset = new Uint32Array(this.slots);
    this.length = new Uint32Array(this.slots);
    this.keyLength = new Uint32Array(this.slots);
    this.keyHash = new Uint32Array(this.slots);
    this.port = new Uint16Array(this.slots);
    this.expiresMs = new Float64Array(this.slots);
    this.index = new Int32Array(indexSizeFor(this.slots));
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
    if (total > this.maxArenaBytes) return;
    if (this.count === this.slots) {
      if (this.slots < this.capacity) this.growSlots();
      else this.dropOldest();
    }
    const at = this.placeFor(total);
    // Free the bytes the new entry will cover: they are the oldest entries'.
    while (this.count > 0 && this.overlapsOldest(at, total)) this.dropOldest();
    const slot = (this.head + this.count) % this.slots;
    this.scratch.copy(this.arena, at, 0, keyLen);
    this.arena.set(bytes, at + keyLen);
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
    else this.insert(slot);
    this.count++;
    this.writeAt = at + total;
  }

  get(key: string): CompletedResponse | undefined {
    const keyLen = this.encode(key);
    const pos = this.find(keyLen, hashBytes(this.scratch, keyLen));
    if (pos < 0) return undefined;
    const slot = (this.index[pos] as number) - 1;
    const off = (this.offset[slot] as number) + keyLen;
    const end = (this.offset[slot] as number) + (this.length[slot] as number);
    return {
      bytes: Buffer.from(this.arena.subarray(off, end)),
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
   * Where the next response goes. The arena grows (doubling, offsets kept) until its limit; after
   * that it is a ring: at the end it wraps to 0, dropping first the entries written after the
   * write position in the previous lap, which are the oldest.
   */
  private placeFor(len: number): number {
    if (this.count === 0) this.writeAt = 0;
    if (this.writeAt + len <= this.arena.length) return this.writeAt;
    if (this.arena.length < this.maxArenaBytes) {
      this.growArena(this.writeAt + len);
      if (this.writeAt + len <= this.arena.length) return this.writeAt;
    }
    while (this.count > 0 && (this.offset[this.head] as number) >= this.writeAt) this.dropOldest();
    return 0;
  }

  /** Offsets stay valid: the old arena is copied to the start of the new one. */
  private growArena(atLeast = 0): void {
    let size = this.arena.length * 2;
    while (size < atLeast) size *= 2;
    const next = Buffer.allocUnsafeSlow(Math.min(size, this.maxArenaBytes));
    this.arena.copy(next, 0);
    this.arena = next;
  }

  /** The ring is laid out again from slot 0, oldest first. */
  private growSlots(): void {
    const n = Math.min(this.slots * 2, this.capacity);
    const offset = new Uint32Array(n);
    const length = new Uint32Array(n);
    const port = new Uint16Array(n);
    const expiresMs = new Float64Array(n);
    const keyLength = new Uint32Array(n);
    const keyHash = new Uint32Array(n);
    const addresses = new Array<string | undefined>(n).fill(undefined);
    const transports = new Array<string | undefined>(n).fill(undefined);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.slots;
      offset[i] = this.offset[from] as number;
      length[i] = this.length[from] as number;
      port[i] = this.port[from] as number;
      expiresMs[i] = this.expiresMs[from] as number;
      keyLength[i] = this.keyLength[from] as number;
      keyHash[i] = this.keyHash[from] as number;
      addresses[i] = this.addresses[from];
      transports[i] = this.transports[from];
    }
    // Slots move: the index is built again from its entries.
    const index = new Int32Array(indexSizeFor(n));
    const old = this.index;
    for (let p = 0; p < old.length; p++) {
      const from = (old[p] as number) - 1;
      if (from < 0) continue;
      const i = (from - this.head + this.slots) % this.slots;
      let q = (keyHash[i] as number) & (index.length - 1);
      while (index[q] !== 0) q = (q + 1) & (index.length - 1);
      index[q] = i + 1;
    }
    this.index = index;
    this.keyLength = keyLength;
    this.keyHash = keyHash;
    this.offset = offset;
    this.length = length;
    this.port = port;
    this.expiresMs = expiresMs;
    this.addresses = addresses;
    this.transports = transports;
    this.slots = n;
    this.head = 0;
  }

  private overlapsOldest(at: number, len: number): boolean {
    const off = this.offset[this.head] as number;
    const end = off + (this.length[this.head] as number);
    return at < end && off < at + len;
  }

  private dropOldest(): void {
    const slot = this.head;
    // A key re-added later points at a newer slot: only remove the index entry that is ours.
    const mask = this.index.length - 1;
    for (let p = (this.keyHash[slot] as number) & mask; this.index[p] !== 0; p = (p + 1) & mask) {
      if (this.index[p] === slot + 1) {
        this.removeAt(p);
        break;
      }
    }
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
        const off = this.offset[slot] as number;
        if (this.arena.compare(this.scratch, 0, keyLen, off, off + keyLen) === 0) return p;
      }
    }
  }

  private insert(slot: number): void {
    const mask = this.index.length - 1;
    let p = (this.keyHash[slot] as number) & mask;
    while (this.index[p] !== 0) p = (p + 1) & mask;
    this.index[p] = slot + 1;
  }

  /** Linear-probing deletion: later entries of the run move back into the hole when they may. */
  private removeAt(hole: number): void {
    const mask = this.index.length - 1;
    let i = hole;
    for (let j = (i + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const home = (this.keyHash[(this.index[j] as number) - 1] as number) & mask;
      // The entry at j may fill i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      this.index[i] = this.index[j] as number;
      i = j;
    }
    this.index[i] = 0;
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
