// RFC 3261 §17.2.2: a non-INVITE server transaction in Completed over UDP only answers
// retransmissions of its request with its final response, until Timer J (64*T1 = 32 s). At
// thousands of requests a second those 32 s hold most of the layer's memory, and every object
// they keep alive is copied by the young-generation collector and marked by the old one. So the
// state lives here without per-entry objects: response bytes in one ring arena (off the JS heap),
// the rest in typed arrays, and only the transaction key as a string.
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

export class CompletedResponses {
  private arena: Buffer;
  private slots: number;
  private offset: Uint32Array;
  private length: Uint32Array;
  private port: Uint16Array;
  private expiresMs: Float64Array;
  private keys: Array<string | undefined>;
  private addresses: Array<string | undefined>;
  private transports: Array<string | undefined>;
  private readonly slotOf = new Map<string, number>();
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
    this.port = new Uint16Array(this.slots);
    this.expiresMs = new Float64Array(this.slots);
    this.keys = new Array<string | undefined>(this.slots).fill(undefined);
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
    if (bytes.length > this.maxArenaBytes) return;
    if (this.count === this.slots) {
      if (this.slots < this.capacity) this.growSlots();
      else this.dropOldest();
    }
    const at = this.placeFor(bytes.length);
    // Free the bytes the new response will cover: they are the oldest entries'.
    while (this.count > 0 && this.overlapsOldest(at, bytes.length)) this.dropOldest();
    const slot = (this.head + this.count) % this.slots;
    this.arena.set(bytes, at);
    this.offset[slot] = at;
    this.length[slot] = bytes.length;
    this.port[slot] = dest.port;
    this.expiresMs[slot] = expiresMs;
    // A slice of the request's header text would keep all of it alive.
    const ownKey = ownString(key);
    this.keys[slot] = ownKey;
    this.addresses[slot] = this.intern(dest.address);
    this.transports[slot] = dest.transport;
    this.slotOf.set(ownKey, slot);
    this.count++;
    this.writeAt = at + bytes.length;
  }

  get(key: string): CompletedResponse | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    const off = this.offset[slot] as number;
    return {
      bytes: Buffer.from(this.arena.subarray(off, off + (this.length[slot] as number))),
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
    const keys = new Array<string | undefined>(n).fill(undefined);
    const addresses = new Array<string | undefined>(n).fill(undefined);
    const transports = new Array<string | undefined>(n).fill(undefined);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.slots;
      offset[i] = this.offset[from] as number;
      length[i] = this.length[from] as number;
      port[i] = this.port[from] as number;
      expiresMs[i] = this.expiresMs[from] as number;
      keys[i] = this.keys[from];
      addresses[i] = this.addresses[from];
      transports[i] = this.transports[from];
      const key = keys[i];
      if (key !== undefined && this.slotOf.get(key) === from) this.slotOf.set(key, i);
    }
    this.offset = offset;
    this.length = length;
    this.port = port;
    this.expiresMs = expiresMs;
    this.keys = keys;
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
    const key = this.keys[slot];
    // A key re-added later points at a newer slot: only remove the mapping that is ours.
    if (key !== undefined && this.slotOf.get(key) === slot) this.slotOf.delete(key);
    this.keys[slot] = undefined;
    this.addresses[slot] = undefined;
    this.transports[slot] = undefined;
    this.head = (this.head + 1) % this.slots;
    this.count--;
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
