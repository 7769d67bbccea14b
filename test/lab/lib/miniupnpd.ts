// A private miniupnpd (never the packaged service) as the UPnP IGD, NAT-PMP and PCP server of a
// router namespace, with the router's whole nftables ruleset (masquerade on the WAN leg, a forward
// filter, and the chains miniupnpd fills). Facts this relies on (LAB-NOTES.md, checked here):
// - miniupnpd 2.3.1 refuses port forwarding on a reserved WAN address (203.0.113.x included) and
//   refuses such an ext_ip=; with ext_perform_stun=yes against a STUN server that does RFC 5780
//   (coturn with two IPs) it finds "no restrictive NAT" and forwards. So a coturn runs in the WAN
//   namespace and the router's input chain must let the STUN answers in.
// - The nftables backend does not create its table or chains: they must exist before it starts.
// - `-d` keeps it in the foreground, logging to stderr; `ip netns exec` execs it, so the PID we
//   hold is miniupnpd's own. In a busy loop it ignores SIGTERM, so stop() ends with SIGKILL.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsExec } from './netns.js';
import { startProcess, waitFor, type LabProcess } from './process.js';

export interface MiniupnpdOptions {
  /** The router namespace. */
  readonly netns: string;
  readonly wanIfname: string;
  readonly lanIfname: string;
  /** The LAN in CIDR form, for the allow rule (secure_mode limits each host to its own address). */
  readonly lanCidr: string;
  /** The STUN server miniupnpd asks for its public address (RFC 5780-capable). */
  readonly stun: { readonly address: string; readonly port: number };
  /** PCP/NAT-PMP lifetimes are clamped into [min, max]. Defaults 2 and 3600 s. */
  readonly minLifetimeS?: number;
  readonly maxLifetimeS?: number;
}

export interface Miniupnpd {
  readonly process: LabProcess;
  /** The port of its HTTP server (description and SOAP control), picked by miniupnpd. */
  readonly httpPort: number;
  readonly dir: string;
  stop(): Promise<void>;
}

const TABLE = 'router';

/** The router's ruleset: NAT, a forward filter that lets LAN→WAN and replies through, miniupnpd's chains. */
export function routerRuleset(wanIfname: string, lanIfname: string): string {
  return `table inet ${TABLE} {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "${lanIfname}" oifname "${wanIfname}" accept
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    jump postrouting_miniupnpd
    oifname "${wanIfname}" masquerade
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`;
}

export async function startMiniupnpd(o: MiniupnpdOptions): Promise<Miniupnpd> {
  const dir = mkdtempSync(join(tmpdir(), 'dpa-miniupnpd-'));
  const rulesPath = join(dir, 'router.nft');
  writeFileSync(rulesPath, routerRuleset(o.wanIfname, o.lanIfname));
  await nsExec(o.netns, 'nft', ['-f', rulesPath]);
  const config = [
    `ext_ifname=${o.wanIfname}`,
    `listening_ip=${o.lanIfname}`,
    'http_port=0',
    'enable_upnp=yes',
    'enable_natpmp=yes',
    'secure_mode=yes',
    // With system_uptime=yes PCP/NAT-PMP epochs count from boot, not from this daemon's start.
    'system_uptime=no',
    `min_lifetime=${o.minLifetimeS ?? 2}`,
    `max_lifetime=${o.maxLifetimeS ?? 3600}`,
    'ext_perform_stun=yes',
    `ext_stun_host=${o.stun.address}`,
    `ext_stun_port=${o.stun.port}`,
    `uuid=${randomUUID()}`,
    `upnp_table_name=${TABLE}`,
    `upnp_nat_table_name=${TABLE}`,
    'upnp_forward_chain=miniupnpd',
    'upnp_nat_chain=prerouting_miniupnpd',
    'upnp_nat_postrouting_chain=postrouting_miniupnpd',
    `lease_file=${join(dir, 'upnp.leases')}`,
    `allow 1024-65535 ${o.lanCidr} 1024-65535`,
    'deny 0-65535 0.0.0.0/0 0-65535',
  ];
  const configPath = join(dir, 'miniupnpd.conf');
  writeFileSync(configPath, `${config.join('\n')}\n`);
  const proc = startProcess('miniupnpd', 'ip', ['netns', 'exec', o.netns, 'miniupnpd', '-f', configPath, '-d', '-P', join(dir, 'miniupnpd.pid')], { cwd: dir });
  const stop = async (): Promise<void> => {
    await proc.stop(2000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('miniupnpd to enable port forwarding and listen for PCP', () => {
      const out = proc.output();
      if (proc.child.exitCode !== null) throw new Error(`miniupnpd exited ${proc.child.exitCode}: ${out.slice(-3000)}`);
      if (/Port forwarding is impossible|STUN: Performing STUN failed/.test(out)) throw new Error(`miniupnpd cannot forward: ${out.slice(-3000)}`);
      return /Listening for NAT-PMP\/PCP traffic on port 5351/.test(out) && /Port forwarding is now enabled/.test(out);
    }, 10_000, 50);
  } catch (err) {
    await stop();
    throw err;
  }
  const httpPort = Number(/HTTP listening on port (\d+)/.exec(proc.output())?.[1]);
  return { process: proc, httpPort, dir, stop };
}

/** coturn in the WAN namespace, two IPs and an alternate port (what miniupnpd's STUN test needs). */
export async function startStunForMiniupnpd(netns: string, addresses: readonly [string, string], port = 3478): Promise<{ process: LabProcess; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dpa-coturn-'));
  const config = [
    ...addresses.map((a) => `listening-ip=${a}`),
    `listening-port=${port}`,
    `alt-listening-port=${port + 1}`,
    'no-tls', 'no-dtls', 'no-tcp', 'no-cli', 'stun-only',
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    'log-file=stdout',
    'simple-log',
  ];
  const configPath = join(dir, 'turnserver.conf');
  writeFileSync(configPath, `${config.join('\n')}\n`);
  const proc = startProcess('turnserver', 'ip', ['netns', 'exec', netns, 'turnserver', '-c', configPath], { cwd: dir });
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const wanted = addresses.flatMap((a) => [`${a}:${port}`, `${a}:${port + 1}`]);
  try {
    await waitFor('coturn to listen on both addresses and ports', async () => {
      if (proc.child.exitCode !== null) throw new Error(`turnserver exited ${proc.child.exitCode}: ${proc.output().slice(-2000)}`);
      const { stdout } = await nsExec(netns, 'ss', ['-Hlun']);
      return wanted.every((w) => stdout.includes(` ${w} `));
    }, 15_000, 50);
  } catch (err) {
    await stop();
    throw err;
  }
  return { process: proc, stop };
}

export interface UpnpcEntry {
  readonly protocol: 'UDP' | 'TCP';
  readonly externalPort: number;
  readonly internalClient: string;
  readonly internalPort: number;
  readonly description: string;
  readonly leaseS: number;
}

/**
 * miniupnpc's own view: `upnpc -l` in the LAN namespace, pointed at the description URL (no SSDP
 * wait) and with -i, since upnpc calls an IGD with a reserved external address "not connected".
 */
export async function upnpcList(lanNs: string, descriptionUrl: string): Promise<UpnpcEntry[]> {
  const { stdout } = await nsExec(lanNs, 'upnpc', ['-i', '-u', descriptionUrl, '-l'], { timeoutMs: 10_000 });
  const out: UpnpcEntry[] = [];
  for (const m of stdout.matchAll(/^\s*\d+\s+(UDP|TCP)\s+(\d+)->([\d.]+):(\d+)\s+'([^']*)'\s+'[^']*'\s+(\d+)/gm)) {
    out.push({
      protocol: m[1] as 'UDP' | 'TCP', externalPort: Number(m[2]), internalClient: m[3] ?? '', internalPort: Number(m[4]), description: m[5] ?? '', leaseS: Number(m[6]),
    });
  }
  return out;
}
