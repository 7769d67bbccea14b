// DnsResolver over node:dns. Node returns TTLs for A/AAAA only; NAPTR and SRV answers get
// `defaultTtlS` (documented limitation of node:dns).
import { Resolver } from 'node:dns/promises';
import { DnsError, type AddressRecord, type DnsResolver, type NaptrRecord, type SrvRecord } from './dns-types.js';

const EMPTY_CODES = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

export interface NodeResolverOptions {
  /** DNS servers as "ip" or "ip:port" (tests use a responder on 127.0.0.1). */
  readonly servers?: readonly string[];
  readonly timeoutMs?: number;
  readonly tries?: number;
  readonly defaultTtlS?: number;
}

export class NodeResolver implements DnsResolver {
  private readonly resolver: Resolver;
  private readonly defaultTtlS: number;

  constructor(o: NodeResolverOptions = {}) {
    this.resolver = new Resolver({ timeout: o.timeoutMs ?? 2000, tries: o.tries ?? 2 });
    if (o.servers) this.resolver.setServers([...o.servers]);
    this.defaultTtlS = o.defaultTtlS ?? 300;
  }

  private async run<T>(name: string, fn: () => Promise<T[]>): Promise<T[]> {
    if (name.length === 0 || name.length > 253) throw new DnsError('bad-name', `invalid DNS name "${name.slice(0, 60)}"`);
    try {
      return await fn();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (EMPTY_CODES.has(code)) return [];
      if (code === 'ETIMEOUT') throw new DnsError('timeout', `DNS query for ${name} timed out`);
      throw new DnsError('server-failure', `DNS query for ${name} failed: ${code || (err as Error).message}`);
    }
  }

  naptr(name: string): Promise<NaptrRecord[]> {
    return this.run(name, async () => (await this.resolver.resolveNaptr(name)).map((r) => ({ ...r, ttlS: this.defaultTtlS })));
  }

  srv(name: string): Promise<SrvRecord[]> {
    return this.run(name, async () => (await this.resolver.resolveSrv(name)).map((r) => ({ ...r, ttlS: this.defaultTtlS })));
  }

  a(name: string): Promise<AddressRecord[]> {
    return this.run(name, async () => (await this.resolver.resolve4(name, { ttl: true })).map((r) => ({ address: r.address, family: 4 as const, ttlS: r.ttl })));
  }

  aaaa(name: string): Promise<AddressRecord[]> {
    return this.run(name, async () => (await this.resolver.resolve6(name, { ttl: true })).map((r) => ({ address: r.address, family: 6 as const, ttlS: r.ttl })));
  }
}
