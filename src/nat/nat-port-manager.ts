// The built-in port manager: it chains providers according to the registry's NAT strategy and
// remembers what each socket was given, so SIP and SDP always advertise the same answer until
// it is released or re-evaluated. `auto` picks per environment: a public address needs nothing;
// a router that maps ports on request (UPnP IGD, PCP/NAT-PMP) is asked; otherwise STUN, which
// is right for cone NATs; a symmetric NAT needs a relay (TURN/ICE), reported as such.
import { isIP } from 'node:net';
import { SystemClock, type Clock } from '../util/index.js';
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

const CONE: ReadonlySet<string> = new Set(['full-cone', 'restricted-cone', 'port-restricted-cone']);

/** SSDP waits 2 s for an IGD; half a second more lets a PCP answer to the first send in too. */
export const ROUTER_BUDGET_MS = 2500;

const isRouter = (p: MappingProvider): boolean => p.name === 'upnp' || p.name === 'pcp';

interface Plan {
  readonly chain: MappingProvider[];
  /** Ask the chain's router providers within the router budget (auto). */
  readonly raceRouters?: boolean;
  /** Why this chain; `via` is the provider that answered ('local' when none did). */
  readonly reason: (via: PortMapping['via']) => string;
}

export class NatPortManager implements PortManager {
  private readonly given = new Map<string, { mapping: PortMapping; provider: MappingProvider | undefined; kind: SocketKind; local: TransportAddress; chain: string; localAddress: string }>();
  private decision: NatDecision;

  constructor(
    private readonly strategy: () => NatStrategy,
    private readonly providers: NatProviders,
    private readonly local: LocalPortManager,
    /** What NAT behaviour discovery found, when it has run (`auto` uses it). */
    private readonly natType: () => string | undefined = () => undefined,
    private readonly clock: Clock = new SystemClock(),
    /** `auto`: how long UPnP and PCP together may take before STUN is asked. */
    private readonly routerBudgetMs = ROUTER_BUDGET_MS,
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
    const plan = this.planFor(localAnswer.address);
    const chain = names(plan.chain);
    for (let i = 0; i < plan.chain.length; i++) {
      const provider = plan.chain[i];
      if (!provider) continue;
      let answer: { provider: MappingProvider; mapping: PortMapping } | undefined;
      if (plan.raceRouters && isRouter(provider)) {
        const routers = plan.chain.slice(i).filter(isRouter);
        i += routers.length - 1;
        answer = await this.routersWithinBudget(req, routers);
      } else {
        try {
          const m = await provider.map(req);
          if (m) answer = { provider, mapping: m };
        } catch {
          // A broken provider degrades to the next one (DESIGN.md: a failure in one part is reported
          // by the part and the phone keeps doing what it can).
        }
      }
      if (answer) {
        const m = answer.mapping;
        this.given.set(k, { mapping: m, provider: answer.provider, kind: req.kind, local: req.local, chain, localAddress: localAnswer.address });
        // The reason from what is known now: a verdict may have come while the providers were asked.
        if (req.kind === 'sip') this.decision = { strategy: this.strategy(), via: m.via, reason: this.planFor(localAnswer.address).reason(m.via) };
        return m;
      }
    }
    this.given.set(k, { mapping: localAnswer, provider: undefined, kind: req.kind, local: req.local, chain, localAddress: localAnswer.address });
    if (req.kind === 'sip') this.decision = { strategy: this.strategy(), via: 'local', reason: this.planFor(localAnswer.address).reason('local') };
    return localAnswer;
  }

  /**
   * UPnP IGD, then PCP/NAT-PMP, within the router budget together: a router that drops both
   * silently would otherwise cost SSDP's wait plus PCP's retransmissions (RFC 6887 §8.1.1: 3 s
   * doubling, 20 s here) before STUN is even asked. One after the other, not side by side, so a
   * router that speaks both never holds two mappings of one port. A mapping that comes after the
   * budget is given back.
   */
  private async routersWithinBudget(req: MappingRequest, routers: readonly MappingProvider[]): Promise<{ provider: MappingProvider; mapping: PortMapping } | undefined> {
    const deadline = this.clock.now() + this.routerBudgetMs;
    for (const provider of routers) {
      const leftMs = deadline - this.clock.now();
      if (leftMs <= 0) return undefined;
      const mapping = await new Promise<PortMapping | undefined>((resolve) => {
        let late = false;
        const timer = this.clock.setTimer(leftMs, () => {
          late = true;
          resolve(undefined);
        });
        provider.map(req).then(
          (m) => {
            if (late) {
              if (m) void provider.release(req.kind, req.local).catch(() => {});
              return;
            }
            this.clock.cancel(timer);
            resolve(m);
          },
          () => {
            this.clock.cancel(timer);
            resolve(undefined);
          },
        );
      });
      if (mapping) return { provider, mapping };
    }
    return undefined;
  }

  /**
   * NAT behaviour discovery has a (new) verdict. The SIP decision's reason is brought up to date;
   * mappings whose chain of providers the verdict changes are forgotten (and released), and true
   * says the caller should ask again (RtcClient.refreshMapping re-registers if the answer moved).
   */
  async behaviourChanged(): Promise<boolean> {
    const stale = [...this.given.entries()].filter(([, g]) => names(this.planFor(g.localAddress).chain) !== g.chain);
    const sip = [...this.given.values()].find((g) => g.kind === 'sip');
    if (sip && !stale.some(([, g]) => g === sip)) {
      this.decision = { strategy: this.strategy(), via: sip.mapping.via, reason: this.planFor(sip.localAddress).reason(sip.mapping.via) };
    }
    for (const [k] of stale) this.given.delete(k);
    await Promise.all(stale.map(([, g]) => g.provider?.release(g.kind, g.local).catch(() => {})));
    return stale.length > 0;
  }

  /** Which providers to ask, in order, and why. */
  private planFor(localAddress: string): Plan {
    const p = this.providers;
    const some = (...xs: Array<MappingProvider | undefined>) => xs.filter((x): x is MappingProvider => x !== undefined);
    const fixed = (chain: MappingProvider[], why: string): Plan => ({
      chain, reason: (via) => (via === 'local' && chain.length > 0 ? `${why}; no provider answered, advertising the local address` : why),
    });
    switch (this.strategy()) {
      case 'none':
        return fixed([], 'strategy none: the local address is advertised');
      case 'static':
        return fixed(some(p.static), 'strategy static: the forwards set up by hand');
      case 'upnp':
        return fixed(some(p.upnp, p.pcp), 'strategy upnp: the router maps ports (UPnP IGD, then PCP/NAT-PMP)');
      case 'stun':
        return fixed(some(p.stun), 'strategy stun: the address the STUN server sees');
      case 'turn':
      case 'ice':
        return fixed(some(p.stun), `strategy ${this.strategy()}: relaying is not available yet; using STUN`);
      case 'auto':
        return this.autoPlan(localAddress);
    }
  }

  /**
   * `auto` from what is known: a public address (or an `open` verdict) needs nothing; forwards set
   * up by hand come first; then a router that maps on request (UPnP IGD, PCP/NAT-PMP); then STUN,
   * which is right for a cone NAT (endpoint-independent mapping, RFC 4787 §4.1) and wrong for a
   * symmetric one, where only a relay (TURN/ICE) works. UDP blocked: STUN cannot answer at all.
   */
  private autoPlan(localAddress: string): Plan {
    const p = this.providers;
    const some = (...xs: Array<MappingProvider | undefined>) => xs.filter((x): x is MappingProvider => x !== undefined);
    const t = this.natType();
    if (!isPrivateAddress(localAddress) || t === 'open') {
      const why = !isPrivateAddress(localAddress) ? `${localAddress} is a public address` : `discovery found no NAT (open) in front of ${localAddress}`;
      return { chain: some(p.static), reason: (via) => `auto: ${why}: ${via === 'static' ? 'the forwards set up by hand' : 'the local address is advertised'}` };
    }
    const behind = t ? `behind a ${t} NAT` : 'behind a NAT not measured yet';
    const routerAnswer = (via: PortMapping['via']): string | undefined => {
      if (via === 'static') return 'the forwards set up by hand';
      if (via === 'upnp') return 'the router maps ports on request (UPnP IGD)';
      if (via === 'pcp') return 'the router maps ports on request (PCP/NAT-PMP)';
      return undefined;
    };
    if (t === 'udp-blocked') {
      return {
        chain: some(p.static, p.upnp, p.pcp), raceRouters: true,
        reason: (via) => `auto: UDP is blocked (no STUN answer): ${routerAnswer(via) ?? 'no router mapping either; SIP and RTP over UDP cannot pass, use TCP/TLS and a TURN relay'}`,
      };
    }
    if (t === 'symmetric') {
      return {
        chain: some(p.static, p.upnp, p.pcp, p.stun), raceRouters: true,
        reason: (via) => `auto: symmetric NAT; a relay (TURN/ICE) is needed for media: ${routerAnswer(via) ?? (via === 'stun' ? 'meanwhile the STUN address (SIP still works over the registration\'s flow)' : 'no provider answered, advertising the local address')}`,
      };
    }
    return {
      chain: some(p.static, p.upnp, p.pcp, p.stun), raceRouters: true,
      reason: (via) => {
        const router = routerAnswer(via);
        if (router) return `auto: private address ${localAddress} ${behind}: ${router}`;
        const noRouter = 'no UPnP/PCP router answered';
        if (via === 'stun') {
          return `auto: private address ${localAddress} ${behind}: ${noRouter}; ${t && CONE.has(t) ? 'STUN, right for a cone NAT (endpoint-independent mapping)' : 'STUN'}`;
        }
        return `auto: private address ${localAddress} ${behind}: ${noRouter} and STUN did not answer; advertising the local address`;
      },
    };
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

const names = (chain: readonly MappingProvider[]): string => chain.map((p) => p.name).join(',');
