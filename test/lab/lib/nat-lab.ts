// A NAT lab in network namespaces (LAB-NOTES.md "Building NATs with nftables"):
//
//   public ns: bridge br0 with 203.0.113.10 and .11, coturn on both (RFC 5780 needs two IPs)
//     ├── router ns per NAT kind: wan0 203.0.113.(21+i) ── lan0 192.168.(10+i).1/24 ── phone ns (.2, .3)
//     └── an "open" phone straight on the bridge: 203.0.113.50 and .51
// Far ends (kamailio, baresip, SIPp) run in the public namespace on addresses added with
// addPublicAddress(). A router with `sipAlg` also runs the kernel's SIP helper on UDP 5060.
//
// Every phone has two addresses so that two discovery tools can run side by side in it without
// one tool's leftover conntrack entries (same source port) changing what the other sees.
// Namespaces get random suffixes; interface names live only inside them. cleanup() stops coturn
// and deletes every namespace whatever build() reached; call it from after().
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NamespaceGroup, createVeth, ipIn, nsExec, nsSysctl } from './netns.js';
import { startProcess, waitFor, type LabProcess } from './process.js';


/** The lab's public side as the NAT tests use it: kamailio (registrar/proxy), baresip far ends, the SIP domain. */
export const LAB_KAMAILIO = '203.0.113.12';
export const LAB_BOB = '203.0.113.13';
export const LAB_DOMAIN = 'lab.test';
export type NatKind = 'full-cone' | 'restricted-cone' | 'port-restricted-cone' | 'symmetric' | 'udp-blocked';

export interface NatRouterSpec {
  readonly kind: NatKind;
  /** Conntrack UDP timeouts (and cone map entry lifetime) in the router's namespace. Default 30 s. */
  readonly udpTimeoutS?: number;
  /** Names the phone in NatLab.phones; default: the kind. */
  readonly key?: string;
  /** The kernel's SIP ALG (nf_nat_sip) on UDP 5060, as home routers' "SIP helper" (LAB-NOTES.md). */
  readonly sipAlg?: boolean;
}

export interface NatLabPhone {
  readonly key: string;
  readonly ns: string;
  /** Two addresses on the phone's one interface. */
  readonly addresses: readonly [string, string];
  readonly behind: NatKind | 'none';
  readonly routerNs: string | undefined;
  /** What the world sees: the router's WAN address, or the phone's own. */
  readonly publicAddress: string;
}

export interface NatLabAddress {
  readonly address: string;
  readonly port: number;
}

const STUN_PRIMARY = '203.0.113.10';
const STUN_ALTERNATE = '203.0.113.11';
const STUN_PORT = 3478;

/** Silently drop what nobody asked for (LAB-NOTES: an accepted stray packet turns a cone into symmetric). */
function filterTable(kind: NatKind): string {
  return `table ip filter {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan0" ct state established,related accept
    iifname "wan0" drop
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ${kind === 'udp-blocked' ? 'meta l4proto udp drop' : ''}
    iifname "lan0" oifname "wan0" accept
    iifname "wan0" oifname "lan0" ct state established,related accept
    iifname "wan0" oifname "lan0" ct status dnat accept
  }
}`;
}

/**
 * Full cone and address-restricted cone have no nftables primitive: after SNAT (srcnat + 10) each
 * outbound UDP packet of a LAN-initiated flow refreshes a map entry keyed by its public port (plus
 * the remote IP for address-restricted), valued with the internal address and port; prerouting
 * DNATs new inbound UDP that matches. `ct direction original` keeps inbound-initiated flows (whose
 * original tuple names the remote) out of the map.
 */
function coneNat(key: string, keyType: string, timeoutS: number): string {
  return `table ip nat {
  map cone {
    type ${keyType} : ipv4_addr . inet_service
    flags dynamic, timeout
    timeout ${timeoutS}s
  }
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "wan0" meta l4proto udp dnat ip to ${key === 'port' ? 'udp dport' : 'udp dport . ip saddr'} map @cone
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade
  }
  chain learn {
    type filter hook postrouting priority srcnat + 10; policy accept;
    oifname "wan0" meta l4proto udp ct direction original update @cone { ${key === 'port' ? 'ct reply proto-dst' : 'ct reply proto-dst . ip daddr'} : ct original ip saddr . ct original proto-src }
  }
}`;
}

const masquerade = (flags: string): string => `table ip nat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade${flags}
  }
}`;

/**
 * LAB-NOTES.md "A real SIP ALG": conntrack's SIP helper on UDP 5060 both ways; with masquerade it
 * rewrites the private address in Via, Contact and SDP on the way out and back on the way in.
 */
const SIP_ALG = `table inet alg {
  ct helper sip-5060 {
    type "sip" protocol udp;
  }
  chain pre {
    type filter hook prerouting priority filter; policy accept;
    udp dport 5060 ct helper set "sip-5060"
    udp sport 5060 ct helper set "sip-5060"
  }
}`;

/** The router's whole ruleset for one NAT kind. */
export function natRuleset(kind: NatKind, udpTimeoutS: number, sipAlg = false): string {
  const nat = {
    'full-cone': coneNat('port', 'inet_service', udpTimeoutS),
    'restricted-cone': coneNat('port-and-ip', 'inet_service . ipv4_addr', udpTimeoutS),
    // Linux keeps the source port while the tuple is free: endpoint-independent mapping, and
    // conntrack lets in only replies from the exact remote: address-and-port-dependent filtering.
    'port-restricted-cone': masquerade(''),
    'symmetric': masquerade(' fully-random'),
    'udp-blocked': masquerade(''),
  }[kind];
  return `flush ruleset\n${nat}\n${filterTable(kind)}\n${sipAlg ? `${SIP_ALG}\n` : ''}`;
}

export class NatLab {
  /** coturn's primary address (RFC 5780 works only through its first listening IP) and OTHER-ADDRESS. */
  readonly stun: { readonly primary: NatLabAddress; readonly alternate: NatLabAddress } = {
    primary: { address: STUN_PRIMARY, port: STUN_PORT },
    alternate: { address: STUN_ALTERNATE, port: STUN_PORT + 1 },
  };
  private readonly group = new NamespaceGroup();
  private readonly dir = mkdtempSync(join(tmpdir(), 'dpa-natlab-'));
  private readonly phoneMap = new Map<string, NatLabPhone>();
  private coturn: LabProcess | undefined;
  private building: Promise<void> | undefined;
  private publicNs = '';

  constructor(
    private readonly routers: readonly NatRouterSpec[],
    private readonly openPhone = true,
  ) {}

  /** Builds the lab once; a failed build leaves what it made for cleanup(). */
  build(): Promise<void> {
    return (this.building ??= this.doBuild());
  }

  phone(key: string): NatLabPhone {
    const p = this.phoneMap.get(key);
    if (!p) throw new Error(`no phone ${key} in the NAT lab (have ${[...this.phoneMap.keys()].join(', ')})`);
    return p;
  }

  /** The namespace of coturn and the far ends (203.0.113.0/24 on br0). */
  get publicNamespace(): string {
    if (!this.publicNs) throw new Error('the NAT lab is not built');
    return this.publicNs;
  }

  /**
   * Another address on the public bridge, for a far end of its own (kamailio, baresip, SIPp).
   * `preferredSource` makes it the source of sockets bound to the wildcard address: baresip 1.0
   * binds its RTP socket so, and its RTP would otherwise leave from coturn's address, not the one
   * in its SDP, which a port-restricted NAT rightly drops.
   */
  async addPublicAddress(address: string, preferredSource = false): Promise<void> {
    await ipIn(this.publicNamespace, ['addr', 'add', `${address}/24`, 'dev', 'br0']);
    if (preferredSource) await ipIn(this.publicNamespace, ['route', 'replace', '203.0.113.0/24', 'dev', 'br0', 'proto', 'kernel', 'scope', 'link', 'src', address]);
  }

  get coturnOutput(): string {
    return this.coturn?.output() ?? '';
  }

  /** Stops coturn and deletes every namespace and the temp dir; safe to call at any time, more than once. */
  async cleanup(): Promise<void> {
    await this.building?.catch(() => undefined);
    await this.coturn?.stop();
    this.coturn = undefined;
    try {
      await this.group.cleanup();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private async doBuild(): Promise<void> {
    const pub = await this.group.create('dpa-pub');
    this.publicNs = pub;
    await ipIn(pub, ['link', 'add', 'br0', 'type', 'bridge']);
    for (const a of [STUN_PRIMARY, STUN_ALTERNATE]) await ipIn(pub, ['addr', 'add', `${a}/24`, 'dev', 'br0']);
    await ipIn(pub, ['link', 'set', 'br0', 'up']);
    // allSettled, not all: cleanup() waits for the build, so no part may still be adding
    // namespaces after the first failure.
    const parts = await Promise.allSettled([
      this.startCoturn(),
      ...this.routers.map((spec, i) => this.buildRouter(spec, i)),
      ...(this.openPhone ? [this.buildOpenPhone()] : []),
    ]);
    const failed = parts.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** A veth from `ns`'s `name` into the public bridge. */
  private async attachToBridge(ns: string, name: string, address: string, bridgePort: string): Promise<void> {
    await createVeth({ ns, name, addresses: [address] }, { ns: this.publicNs, name: bridgePort });
    await ipIn(this.publicNs, ['link', 'set', bridgePort, 'master', 'br0']);
  }

  private async buildOpenPhone(): Promise<void> {
    const ns = await this.group.create('dpa-open');
    await this.attachToBridge(ns, 'eth0', '203.0.113.50/24', 'open0');
    await ipIn(ns, ['addr', 'add', '203.0.113.51/24', 'dev', 'eth0']);
    this.phoneMap.set('none', {
      key: 'none', ns, addresses: ['203.0.113.50', '203.0.113.51'], behind: 'none', routerNs: undefined, publicAddress: '203.0.113.50',
    });
  }

  private async buildRouter(spec: NatRouterSpec, i: number): Promise<void> {
    const key = spec.key ?? spec.kind;
    const wan = `203.0.113.${21 + i}`;
    const lan = `192.168.${10 + i}`;
    const [router, phone] = await Promise.all([this.group.create('dpa-rtr'), this.group.create('dpa-phone')]);
    await this.attachToBridge(router, 'wan0', `${wan}/24`, `r${i}`);
    await createVeth({ ns: router, name: 'lan0', addresses: [`${lan}.1/24`] }, { ns: phone, name: 'eth0', addresses: [`${lan}.2/24`, `${lan}.3/24`] });
    await ipIn(phone, ['route', 'add', 'default', 'via', `${lan}.1`]);
    await nsSysctl(router, 'net.ipv4.ip_forward', 1);
    const rules = join(this.dir, `${key}.nft`);
    writeFileSync(rules, natRuleset(spec.kind, spec.udpTimeoutS ?? 30, spec.sipAlg));
    await nsExec(router, 'nft', ['-f', rules]);
    // Per-namespace conntrack timeouts (they exist once the ruleset has loaded conntrack): a
    // binding then lives seconds, not minutes.
    const timeoutS = spec.udpTimeoutS ?? 30;
    await nsSysctl(router, 'net.netfilter.nf_conntrack_udp_timeout', timeoutS);
    await nsSysctl(router, 'net.netfilter.nf_conntrack_udp_timeout_stream', timeoutS);
    this.phoneMap.set(key, {
      key, ns: phone, addresses: [`${lan}.2`, `${lan}.3`], behind: spec.kind, routerNs: router, publicAddress: wan,
    });
  }

  /** coturn inside the public namespace; coturn.ts starts it in the host's, so this is its own launcher. */
  private async startCoturn(): Promise<void> {
    const config = [
      `listening-ip=${STUN_PRIMARY}`,
      `listening-ip=${STUN_ALTERNATE}`,
      `listening-port=${STUN_PORT}`,
      `alt-listening-port=${STUN_PORT + 1}`,
      'no-tls', 'no-dtls', 'no-tcp', 'no-cli', 'stun-only',
      `userdb=${join(this.dir, 'turndb')}`,
      `pidfile=${join(this.dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'simple-log',
    ];
    const configPath = join(this.dir, 'turnserver.conf');
    writeFileSync(configPath, `${config.join('\n')}\n`);
    // `ip netns exec` execs turnserver, so the PID we hold is coturn's own.
    const proc = startProcess('turnserver', 'ip', ['netns', 'exec', this.publicNs, 'turnserver', '-c', configPath], { cwd: this.dir });
    this.coturn = proc;
    const wanted = [STUN_PRIMARY, STUN_ALTERNATE].flatMap((a) => [`${a}:${STUN_PORT}`, `${a}:${STUN_PORT + 1}`]);
    await waitFor('coturn to listen on both addresses and ports', async () => {
      if (proc.child.exitCode !== null) throw new Error(`turnserver exited ${proc.child.exitCode}: ${proc.output().slice(-2000)}`);
      const { stdout } = await nsExec(this.publicNs, 'ss', ['-Hlun']);
      return wanted.every((w) => stdout.includes(` ${w} `));
    }, 15_000, 50);
  }
}
