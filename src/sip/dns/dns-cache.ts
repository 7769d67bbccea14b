// A resolver cache that honours TTLs (clamped), caches negative answers briefly (RFC 2308
// style) and holds at most `maxEntries` names (least recently used out first).
import type { Clock } from '../../util/clock.js';
import type { AddressRecord, DnsResolver, NaptrRecord, SrvRecord } from './dns-types.js';

export interface DnsCacheOptions {
  readonly minTtlS?: number;
  readonly maxTtlS?: number;
  readonly negativeTtlS?: number;
  readonly maxEntries?: number;
}

interface Entry {
  readonly expiresMs: number;
  readonly records: readonly { ttlS: number }[];
}

export class CachingResolver implements DnsResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<readonly { ttlS: number }[]>>();
  private readonly minTtlS: number;
  private readonly maxTtlS: number;
  private readonly negativeTtlS: number;
  private readonly maxEntries: number;

  constructor(private readonly inner: DnsResolver, private readonly clock: Clock, o: DnsCacheOptions = {}) {
    this.minTtlS = o.minTtlS ?? 5;
    this.maxTtlS = o.maxTtlS ?? 86_400;
    this.negativeTtlS = o.negativeTtlS ?? 30;
    this.maxEntries = o.maxEntries ?? 1000;
  }

  get size(): number {
    return this.entries.size;
  }

  private async lookup<T extends { ttlS: number }>(type: string, name: string, query: () => Promise<T[]>): Promise<T[]> {
    const key = `${type} ${name.toLowerCase()}`;
    const hit = this.entries.get(key);
    const now = this.clock.now();
    if (hit && hit.expiresMs > now) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return [...(hit.records as T[])];
    }
    this.entries.delete(key);
    let pending = this.inflight.get(key) as Promise<T[]> | undefined;
    if (!pending) {
      pending = query();
      this.inflight.set(key, pending);
    }
    try {
      const records = await pending;
      const ttlS = records.length === 0 ? this.negativeTtlS : Math.min(this.maxTtlS, Math.max(this.minTtlS, Math.min(...records.map((r) => r.ttlS))));
      while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { expiresMs: this.clock.now() + ttlS * 1000, records });
      return [...records];
    } finally {
      this.inflight.delete(key);
    }
  }

  naptr(name: string): Promise<NaptrRecord[]> {
    return this.lookup('NAPTR', name, () => this.inner.naptr(name));
  }

  srv(name: string): Promise<SrvRecord[]> {
    return this.lookup('SRV', name, () => this.inner.srv(name));
  }

  a(name: string): Promise<AddressRecord[]> {
    return this.lookup('A', name, () => this.inner.a(name));
  }

  aaaa(name: string): Promise<AddressRecord[]> {
    return this.lookup('AAAA', name, () => this.inner.aaaa(name));
  }
}
