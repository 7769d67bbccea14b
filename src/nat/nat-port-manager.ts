// The built-in port manager: it chains providers according to the registry's NAT strategy and
// remembers what each socket was given, so SIP and SDP always advertise the same answer until
// it is released or re-evaluated. `auto` picks per environment: a public address needs nothing;
// a router that maps ports on request (UPnP IGD, PCP/NAT-PMP) is asked; otherwise STUN, which
// is right for cone NATs; a symmetric NAT needs a relay (TURN/ICE), reported as such.
import { isIP } from 'node:net';
import type { MappingProvider } from './mapping-provider.js';
import { LocalPortManager, type MappingRequest, type PortManager, type PortMapping, type SocketKind, type TransportAddress } from './port-manager.js';

export type NatStrategy = 'auto' | 'none' | 'static' | 'upnp' | 'stun' | 'turn' | 'ice';

export interface NatDecision {
  readonly strategy: NatStrategy;
  /** Which provider the last mapping came from. */
  readonly via: PortMapping['via'] | null;
  readonly reason: string;
}

export interface NatProviders {
  readonly static?: MappingProvider;
  readonly upnp?: MappingProvider;
  readonly pcp?: MappingProvider;
  readonly stun?: MappingProvider;
}

/** RFC 1918, RFC 6598 (CGN), loopback, link-local and IPv6 ULA/link-local: not reachable from the internet. */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
  }
  const v6 = address.toLowerCase();
  return v6 === '::1' || v6.startsWith('fc') || v6.startsWith('fd') || v6.startsWith('fe80');
}

const key = (kind: SocketKind, local: TransportAddress) => `${kind}|${local.address}|${local.port}`;

export class NatPortManager implements PortManager {
  private readonly given = new Map<string, { mapping: PortMapping; provider: MappingProvider | undefined; kind: SocketKind; local: TransportAddress }>();
  private decision: NatDecision;

  constructor(
    private readonly strategy: () => NatStrategy,
    private readonly providers: NatProviders,
    private readonly local: LocalPortManager,
    /** What NAT behaviour discovery found, when it has run (`auto` uses it). */
    private readonly natType: () => string | undefined = () => undefined,
  ) {
    this.decision = { strategy: strategy(), via: null, reason: 'no mapping asked for yet' };
  }

  get lastDecision(): NatDecision {
    return this.decision;
  }

  get mappings(): Array<{ kind: SocketKind; local: TransportAddress; mapping: PortMapping }> {
    return [...this.given.values()].map((g) => ({ kind: g.kind, local: g.local, mapping: g.mapping }));
  }

  async getMapping(req: MappingRequest): Promise<PortMapping> {
    const k = key(req.kind, req.local);
    const had = this.given.get(k);
    if (had) return had.mapping;
    const localAnswer = await this.local.getMapping(req);
    const { chain, reason } = this.chainFor(localAnswer.address);
    for (const provider of chain) {
      try {
        const m = await provider.map(req);
        if (m) {
          this.given.set(k, { mapping: m, provider, kind: req.kind, local: req.local });
          this.decision = { strategy: this.strategy(), via: m.via, reason };
          return m;
        }
      } catch {
        // A broken provider degrades to the next one (DESIGN.md: a failure in one part is reported
        // by the part and the phone keeps doing what it can).
      }
    }
    this.given.set(k, { mapping: localAnswer, provider: undefined, kind: req.kind, local: req.local });
    this.decision = { strategy: this.strategy(), via: 'local', reason: chain.length > 0 ? `${reason}; no provider answered, advertising the local address` : reason };
    return localAnswer;
  }

  /** Which providers to ask, in order, and why. */
  private chainFor(localAddress: string): { chain: MappingProvider[]; reason: string } {
    const p = this.providers;
    const some = (...xs: Array<MappingProvider | undefined>) => xs.filter((x): x is MappingProvider => x !== undefined);
    switch (this.strategy()) {
      case 'none':
        return { chain: [], reason: 'strategy none: the local address is advertised' };
      case 'static':
        return { chain: some(p.static), reason: 'strategy static: the forwards set up by hand' };
      case 'upnp':
        return { chain: some(p.upnp, p.pcp), reason: 'strategy upnp: the router maps ports (UPnP IGD, then PCP/NAT-PMP)' };
      case 'stun':
        return { chain: some(p.stun), reason: 'strategy stun: the address the STUN server sees' };
      case 'turn':
      case 'ice':
        return { chain: some(p.stun), reason: `strategy ${this.strategy()}: relaying is not available yet; using STUN` };
      case 'auto': {
        if (!isPrivateAddress(localAddress)) return { chain: some(p.static), reason: `auto: ${localAddress} is a public address, no NAT to traverse` };
        const t = this.natType();
        if (t === 'symmetric') return { chain: some(p.upnp, p.pcp, p.stun), reason: 'auto: symmetric NAT; a relay (TURN/ICE) is needed, trying router mapping and STUN meanwhile' };
        return { chain: some(p.static, p.upnp, p.pcp, p.stun), reason: `auto: private address ${localAddress}${t ? ` behind a ${t} NAT` : ''}: router mapping first, then STUN` };
      }
    }
  }

  updateRemoteAddress(): void {}

  async releaseMapping(kind: SocketKind, local: TransportAddress): Promise<void> {
    const k = key(kind, local);
    const had = this.given.get(k);
    this.given.delete(k);
    await had?.provider?.release(kind, local);
  }

  /** Forgets every mapping so the next getMapping asks again (a new address, a new strategy). */
  async reevaluate(): Promise<void> {
    const all = [...this.given.values()];
    this.given.clear();
    await Promise.all(all.map((g) => g.provider?.release(g.kind, g.local).catch(() => {})));
  }

  async close(): Promise<void> {
    await this.reevaluate();
    const providers = [this.providers.static, this.providers.upnp, this.providers.pcp, this.providers.stun];
    await Promise.all(providers.map((p) => p?.close().catch(() => {})));
  }
}
