// A private kamailio (never the packaged service) as registrar/proxy for a test.
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/paths.js';
import { nsExec, runCommand } from './netns.js';
import { startProcess, waitFor, type LabProcess } from './process.js';

// nathelper: flag 1 = private Contact, 8 = private address in the SDP; fix_nated_sdp 2 rewrites c=.
const FAR_END_NAT_REQUEST = `\t\tif (nat_uac_test("1")) fix_nated_contact();
\t\tif (has_body("application/sdp") && nat_uac_test("8")) fix_nated_sdp("2");
\t\tt_on_reply("FAR_END_NAT");`;
const FAR_END_NAT_REPLY = `onreply_route[FAR_END_NAT] {
\tif (nat_uac_test("1")) fix_nated_contact();
\tif (has_body("application/sdp") && nat_uac_test("8")) fix_nated_sdp("2");
}`;

export interface KamailioOptions {
  readonly address: string;
  readonly port: number;
  readonly domain?: string;
  readonly users: Readonly<Record<string, string>>;
  /** Ask INVITE senders from our domain for proxy credentials (407). */
  readonly inviteAuth?: boolean;
  readonly minExpiresS?: number;
  /** Run inside a network namespace. */
  readonly netns?: string;
  /** SIP Outbound (RFC 5626) registrar with STUN keep-alive answers on the SIP port. */
  readonly outbound?: boolean;
  /**
   * Far-end NAT traversal as SIP providers do it (nathelper): the private Contact and SDP address
   * of an INVITE or its 2xx are replaced by the address the message came from. What a phone needs
   * once it signals over TCP, out of the reach of a SIP ALG that used to rewrite them.
   */
  readonly farEndNat?: boolean;
  /** Open the ctl module's binrpc socket, for userLocation(). */
  readonly control?: boolean;
}

export interface Kamailio {
  readonly process: LabProcess;
  readonly address: string;
  readonly port: number;
  readonly domain: string;
  /** The location table (`kamcmd ul.dump`), with `control`. */
  userLocation(): Promise<string>;
  stop(): Promise<void>;
}

/** Sends an OPTIONS and resolves true when any response comes back. */
export function sipPing(address: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('message', () => done(true));
    sock.on('error', () => done(false));
    sock.bind(0, () => {
      const local = sock.address();
      const branch = `z9hG4bKping${Math.random().toString(36).slice(2)}`;
      const msg = [
        `OPTIONS sip:${address}:${port} SIP/2.0`, `Via: SIP/2.0/UDP ${local.address === '0.0.0.0' ? '127.0.0.1' : local.address}:${local.port};branch=${branch};rport`,
        'From: <sip:ping@lab.test>;tag=p1', `To: <sip:${address}:${port}>`, `Call-ID: ${branch}@lab`, 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
      ].join('\r\n');
      sock.send(msg, port, address);
    });
  });
}

export async function startKamailio(o: KamailioOptions): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'dpa-kam-'));
  const domain = o.domain ?? 'lab.test';
  const host = o.address.includes(':') ? `[${o.address}]` : o.address;
  const ctlSocket = join(dir, 'ctl.sock');
  const users = Object.entries(o.users).map(([u, p]) => {
    if (!/^[A-Za-z0-9._-]+$/.test(u) || /["\\\n]/.test(p)) throw new Error(`unsafe lab user ${u}`);
    return `\tif ($au == "${u}") $var(pw) = "${p}";`;
  }).join('\n');
  const cfg = readFileSync(join(REPO_ROOT, 'test', 'lab', 'kamailio', 'kamailio.cfg.tpl'), 'utf8')
    .replace('@@DEBUG@@', '1')
    .replace('@@LISTEN@@', `listen=udp:${host}:${o.port}\nlisten=tcp:${host}:${o.port}`)
    .replace('@@DOMAIN@@', domain)
    .replace('@@MIN_EXPIRES@@', String(o.minExpiresS ?? 60))
    .replace('@@INVITE_AUTH@@', o.inviteAuth ? '1 == 1' : '1 == 0')
    .replace('@@USERS@@', users)
    .replace('@@OUTBOUND_MODULES@@', o.outbound ? 'loadmodule "outbound.so"\nloadmodule "stun.so"\nloadmodule "path.so"' : '')
    .replace('@@OUTBOUND_PARAMS@@', [
      ...(o.outbound ? ['modparam("registrar", "outbound_mode", 1)'] : []),
      ...(o.control ? ['loadmodule "ctl.so"', `modparam("ctl", "binrpc", "unix:${ctlSocket}")`] : []),
    ].join('\n'))
    .replace('@@FAR_END_NAT@@', o.farEndNat ? FAR_END_NAT_REQUEST : '')
    .replace('@@ROUTES@@', o.farEndNat ? FAR_END_NAT_REPLY : '');
  const cfgPath = join(dir, 'kamailio.cfg');
  writeFileSync(cfgPath, cfg);
  const args = ['-f', cfgPath, '-DD', '-E', '-m', '32', '-M', '8', '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-w', dir];
  const proc = o.netns ? startProcess('kamailio', 'ip', ['netns', 'exec', o.netns, 'kamailio', ...args]) : startProcess('kamailio', 'kamailio', args);
  try {
    await waitFor('kamailio to answer OPTIONS', async () => {
      if (proc.child.exitCode !== null) throw new Error(`kamailio exited: ${proc.output().slice(-2000)}`);
      // In a namespace the host cannot reach it (and must send nothing outside): its bound socket says it is up.
      if (o.netns) return (await nsExec(o.netns, 'ss', ['-Hlun'])).stdout.includes(` ${host}:${o.port} `);
      return sipPing(o.address, o.port);
    }, 15_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const userLocation = async (): Promise<string> => {
    if (!o.control) throw new Error('kamailio was started without control');
    return (await runCommand('kamcmd', ['-s', `unix:${ctlSocket}`, 'ul.dump'])).stdout;
  };
  return { process: proc, address: o.address, port: o.port, domain, userLocation, stop: () => proc.stop() };
}
