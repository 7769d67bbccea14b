// A SIP ALG probe for `deskphone-agent nat-test`: one OPTIONS over UDP to the SIP server (port 5060
// unless told), with our local address in the Via, from a port of its own so a running daemon is
// not disturbed. alg-detector.ts reads the answer the way it reads REGISTER answers: a server that
// writes rport but no received although we sent a private address, or received= naming a private
// address, saw a Via the router had rewritten.
import { randomBytes } from 'node:crypto';
import type { AlgEvidence } from './alg-detector.js';
import { inspectResponse } from './alg-detector.js';
import { CachingResolver, NodeResolver, ServerLocator, type DnsResolver } from '../sip/dns/index.js';
import { SipHeaders, type SipRequest, type SipUri } from '../sip/message/index.js';
import { DEFAULT_TIMERS } from '../sip/transaction/index.js';
import { UserAgent } from '../sip/ua/index.js';
import { SystemClock } from '../util/index.js';

export interface AlgProbeOptions {
  /** The SIP server (registrar or proxy): a host name or address, port 5060 when none. */
  readonly server: { readonly host: string; readonly port?: number };
  /** The local address to send from and put in the Via. */
  readonly localAddress: string;
  /** How long to wait for the answer; default 4 s. */
  readonly timeoutMs?: number;
  readonly resolver?: DnsResolver;
}

export interface AlgProbeResult {
  /** Where the OPTIONS went, as address:port. */
  readonly server: string;
  /** The status of the answer, or null when none came in time. */
  readonly status: number | null;
  readonly detected: boolean;
  readonly evidence: AlgEvidence | null;
}

export async function probeSipAlg(o: AlgProbeOptions): Promise<AlgProbeResult> {
  const clock = new SystemClock();
  const locator = new ServerLocator(o.resolver ?? new CachingResolver(new NodeResolver(), clock), ['UDP']);
  const target = (await locator.locate({ host: o.server.host, port: o.server.port ?? 5060, transport: 'UDP' }))[0];
  if (!target) throw new Error(`no address for ${o.server.host}`);
  const server = `${target.address}:${target.port}`;
  const ua: UserAgent = new UserAgent({
    clock, addresses: [o.localAddress], port: 0, transports: ['UDP'], timers: () => DEFAULT_TIMERS, userAgent: 'deskphone-agent nat-test',
    advertised: () => ({ host: o.localAddress, port: ua.port }), rport: () => true,
  });
  await ua.start();
  let timer: NodeJS.Timeout | undefined;
  try {
    const host = target.address.includes(':') ? `[${target.address}]` : target.address;
    const uri: SipUri = { scheme: 'sip', host, port: target.port, params: new Map(), headers: new Map() };
    const h = new SipHeaders();
    h.append('Max-Forwards', '70');
    h.append('From', `<sip:nat-test@${o.localAddress.includes(':') ? `[${o.localAddress}]` : o.localAddress}>;tag=${randomBytes(6).toString('hex')}`);
    h.append('To', `<sip:${host}:${target.port}>`);
    h.append('Call-ID', `${randomBytes(12).toString('hex')}@nat-test`);
    h.append('CSeq', '1 OPTIONS');
    h.append('Content-Length', '0');
    const req: SipRequest = { kind: 'request', method: 'OPTIONS', uri, headers: h, body: new Uint8Array(0) };
    const sentBy = { host: o.localAddress, port: ua.port };
    const answer = ua.request(req, { transport: 'UDP', address: target.address, port: target.port, reliable: false });
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), o.timeoutMs ?? 4000)));
    const res = await Promise.race([answer.catch(() => undefined), timeout]);
    if (!res) return { server, status: null, detected: false, evidence: null };
    const evidence = inspectResponse({ method: 'OPTIONS', response: res, sentBy, destination: { transport: 'UDP', address: target.address, port: target.port } });
    return { server, status: res.status, detected: evidence !== undefined, evidence: evidence ?? null };
  } finally {
    clearTimeout(timer);
    await ua.close();
  }
}
