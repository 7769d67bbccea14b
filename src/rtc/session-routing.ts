// Where a session's requests go. The first INVITE: the profile's proxy or registrar (RFC 3263),
// or the target itself for a direct call. Requests inside the dialog: the first Route, else the
// remote target (RFC 3261 §12.2.1.1), located by RFC 3263.
import type { Profile } from './profile.js';
import type { ServerLocator, Target } from '../sip/dns/index.js';
import { formatUri, isSipUri, parseNameAddr, type SipRequest, type SipUri } from '../sip/message/index.js';
import type { Destination } from '../sip/transport/index.js';

function destination(t: Target): Destination {
  return { transport: t.transport, address: t.address, port: t.port, reliable: t.transport !== 'UDP', ...(t.transport === 'TLS' ? { serverName: t.hostName } : {}) };
}

/** RFC 3263: the first target for a SIP URI, on the URI's transport or the session's. */
export async function locateUri(locator: ServerLocator, uri: SipUri, defaultTransport: string): Promise<Destination> {
  const transport = (uri.params.get('transport') ?? defaultTransport).toUpperCase() as 'UDP' | 'TCP' | 'TLS';
  const targets = await locator.locate({ host: uri.host, ...(uri.port !== undefined ? { port: uri.port } : {}), transport, secure: uri.scheme === 'sips' });
  const t = targets[0];
  if (!t) throw new Error(`no address for ${formatUri(uri)}`);
  return destination(t);
}

/** The first hop of a new call: the profile's outbound proxy/registrar, else the target. */
export async function firstHop(locator: ServerLocator, profile: Profile | undefined, target: SipUri, transport: string): Promise<Destination> {
  if (profile) {
    const t = (await profile.outboundTargets())[0];
    if (t) return destination(t);
  }
  return locateUri(locator, target, transport);
}

/** §12.2.1.1: the first Route header, else the Request-URI. */
export async function nextHop(locator: ServerLocator, req: SipRequest, transport: string): Promise<Destination> {
  const route = req.headers.getAll('Route')[0];
  const uri = route ? parseNameAddr(route).uri : req.uri;
  if (!isSipUri(uri)) throw new Error(`cannot route to ${formatUri(uri)}`);
  return locateUri(locator, uri, transport);
}
