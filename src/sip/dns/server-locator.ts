// RFC 3263 §4: which transport, address and port to send a request to, as an ordered list of
// targets to fail over through (on a timeout, a transport error or a 503, §4.3).
import { isIP } from 'node:net';
import type { DnsResolver, SrvRecord } from './dns-types.js';

export type SipTransport = 'UDP' | 'TCP' | 'TLS';

export interface LocateRequest {
  readonly host: string;
  readonly port?: number;
  readonly transport?: SipTransport;
  /** sips: URI: TLS only. */
  readonly secure?: boolean;
}

export interface Target {
  readonly address: string;
  readonly port: number;
  readonly transport: SipTransport;
  readonly family: 4 | 6;
  /** The name the target came from (TLS verifies against the domain, RFC 5922). */
  readonly hostName: string;
}

const SERVICE: Record<string, SipTransport> = { 'SIP+D2U': 'UDP', 'SIP+D2T': 'TCP', 'SIPS+D2T': 'TLS' };
const SRV_PREFIX: Record<SipTransport, string> = { UDP: '_sip._udp.', TCP: '_sip._tcp.', TLS: '_sips._tcp.' };
const DEFAULT_PORT: Record<SipTransport, number> = { UDP: 5060, TCP: 5060, TLS: 5061 };

/** RFC 2782: by priority, then weighted random within a priority (weight 0 first in the draw). */
export function orderSrv(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const usable = records.filter((r) => r.name !== '.' && r.name !== '');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvRecord[] = [];
  for (const p of priorities) {
    const group = usable.filter((r) => r.priority === p).sort((a, b) => (a.weight === 0 ? -1 : 0) - (b.weight === 0 ? -1 : 0));
    while (group.length > 0) {
      const total = group.reduce((s, r) => s + r.weight, 0);
      const pick = Math.floor(random() * (total + 1));
      let running = 0;
      let index = group.length - 1;
      for (let i = 0; i < group.length; i++) {
        running += (group[i] as SrvRecord).weight;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(group.splice(index, 1)[0] as SrvRecord);
    }
  }
  return out;
}

export class ServerLocator {
  constructor(
    private readonly dns: DnsResolver,
    private readonly supported: readonly SipTransport[] = ['UDP', 'TCP', 'TLS'],
    private readonly random: () => number = Math.random,
    private readonly preferIpv6 = false,
  ) {}

  async locate(req: LocateRequest): Promise<Target[]> {
    const host = req.host.replace(/^\[|\]$/g, '');
    const allowed = req.secure ? this.supported.filter((t) => t === 'TLS') : this.supported;
    const fixedTransport = req.transport ?? (req.secure ? 'TLS' : undefined);
    // §4.1: a numeric IP, or an explicit port: no NAPTR/SRV.
    if (isIP(host) !== 0) {
      const transport = fixedTransport ?? 'UDP';
      return [{ address: host, port: req.port ?? DEFAULT_PORT[transport], transport, family: isIP(host) === 6 ? 6 : 4, hostName: host }];
    }
    if (req.port !== undefined) return this.addresses(host, req.port, fixedTransport ?? 'UDP');
    if (fixedTransport) {
      const viaSrv = await this.srvTargets(host, fixedTransport);
      return viaSrv.length ? viaSrv : this.addresses(host, DEFAULT_PORT[fixedTransport], fixedTransport);
    }
    // §4.1: NAPTR, keeping only services we support, by order then preference.
    const naptr = (await this.dns.naptr(host))
      .filter((r) => r.flags.toLowerCase() === 's' && SERVICE[r.service.toUpperCase()] !== undefined && allowed.includes(SERVICE[r.service.toUpperCase()] as SipTransport))
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    const out: Target[] = [];
    for (const r of naptr) {
      const transport = SERVICE[r.service.toUpperCase()] as SipTransport;
      out.push(...(await this.srvTargets(r.replacement, transport, host)));
    }
    if (out.length) return dedupe(out);
    // No NAPTR: SRV for each supported transport, then plain A/AAAA.
    for (const t of allowed) out.push(...(await this.srvTargets(host, t)));
    if (out.length) return dedupe(out);
    const transport = req.secure ? 'TLS' : allowed[0] ?? 'UDP';
    return this.addresses(host, DEFAULT_PORT[transport], transport);
  }

  private async srvTargets(name: string, transport: SipTransport, hostName = name): Promise<Target[]> {
    const srvName = name.startsWith('_') ? name : `${SRV_PREFIX[transport]}${name}`;
    const out: Target[] = [];
    for (const r of orderSrv(await this.dns.srv(srvName), this.random)) {
      for (const a of await this.addresses(r.name, r.port, transport)) out.push({ ...a, hostName });
    }
    return out;
  }

  private async addresses(host: string, port: number, transport: SipTransport): Promise<Target[]> {
    const [v4, v6] = await Promise.all([this.dns.a(host), this.dns.aaaa(host)]);
    const list = this.preferIpv6 ? [...v6, ...v4] : [...v4, ...v6];
    return list.map((a) => ({ address: a.address, port, transport, family: a.family, hostName: host }));
  }
}

function dedupe(targets: Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const k = `${t.transport}|${t.address}|${t.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Walks the targets in order; the caller moves on after a timeout, transport error or 503. */
export class TargetCursor {
  private index = 0;

  constructor(private readonly targets: readonly Target[]) {}

  get current(): Target | undefined {
    return this.targets[this.index];
  }

  /** RFC 3263 §4.3: the next target, or undefined when all have failed. */
  next(): Target | undefined {
    this.index++;
    return this.current;
  }

  get remaining(): number {
    return Math.max(0, this.targets.length - this.index);
  }
}
