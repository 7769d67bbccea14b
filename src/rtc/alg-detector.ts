// SIP ALG detection: notices when a router between us and the SIP server rewrites our SIP.
// A "SIP ALG" (Linux's nf_nat_sip, most home routers' "SIP helper") replaces the private
// address in Via, Contact and SDP with its public one on the way out, and puts ours back on the
// way in. It breaks digest-protected and TLS signalling in subtle ways, fights with STUN and
// keep-alives, and is the first thing to switch off when calls fail one-way.
//
// What gives it away, read from the final response to our REGISTER or INVITE over UDP, when we
// sent a private sent-by to a server at a public address:
// - 'via-received-missing': RFC 3581 §4 makes the server write received= and rport= into our
//   Via. A plain NAT hands the response back untouched, so received= names the router's public
//   address. An ALG rewrote our Via to that public address, so a server that writes received=
//   only when it differs from the sent-by (kamailio, most deployed servers) writes none: the
//   response has rport=N but no received (LAB-NOTES.md: what the kernel SIP helper does);
// - 'via-received-private': the server wrote received= (as RFC 3581 asks even when it is equal),
//   and the ALG rewrote it back to our private address: a public server cannot have seen that;
// - 'via-sent-by-changed': the Via comes back with a sent-by we never sent (an ALG that rewrites
//   only one way);
// - 'contact-rewritten' (REGISTER 2xx): the registrar lists a binding with our instance ID but
//   another address, and none with the Contact we sent.
// Pure: the client feeds responses in and reports the first finding (see client.ts).
import { isIP } from 'node:net';
import { getContacts, isSipUri, topVia, type SipResponse, type SipUri } from '../sip/message/index.js';
import { isPrivateAddress } from '../nat/index.js';

export type AlgEvidenceKind = 'via-received-missing' | 'via-received-private' | 'via-sent-by-changed' | 'contact-rewritten';

export interface AlgEvidence {
  readonly kind: AlgEvidenceKind;
  /** The request whose response showed it. */
  readonly method: string;
  /** The SIP server we sent to. */
  readonly server: string;
  /** What we sent and what came back, for the log. */
  readonly sent: string;
  readonly seen: string;
}

export interface ResponseObservation {
  readonly method: string;
  readonly response: SipResponse;
  /** The sent-by of our Via (the port manager's answer when we sent it). */
  readonly sentBy: { readonly host: string; readonly port: number };
  /** Where the request went: the first hop. */
  readonly destination: { readonly transport: string; readonly address: string; readonly port: number };
  /** REGISTER only: the Contact URI and +sip.instance we registered. */
  readonly contact?: { readonly uri: SipUri; readonly instance: string | undefined };
}

/** Our address as the SIP server saw it (received/rport of our Via), when it said. */
export interface ServerReflexive {
  readonly address: string | undefined;
  readonly port: number | undefined;
}

const bare = (host: string): string => host.replace(/^\[|\]$/g, '').toLowerCase();

/** A literal private or loopback address (a host name cannot be judged). */
const privateLiteral = (host: string): boolean => isIP(bare(host)) !== 0 && isPrivateAddress(bare(host));

/** received/rport of the top Via, as the server wrote them (undefined when it did not). */
export function serverReflexive(res: SipResponse): ServerReflexive | undefined {
  let via;
  try {
    via = topVia(res);
  } catch {
    return undefined;
  }
  const received = via.params.get('received') ?? undefined;
  const rport = via.params.get('rport');
  const port = rport && /^\d{1,5}$/.test(rport) ? Number(rport) : undefined;
  return received === undefined && port === undefined ? undefined : { address: received === undefined ? undefined : bare(received), port };
}

/** The evidence of an ALG in one response, or undefined when it looks untouched. */
export function inspectResponse(o: ResponseObservation): AlgEvidence | undefined {
  if (o.destination.transport.toUpperCase() !== 'UDP') return undefined;
  // No NAT between us and a server in our own network; a name instead of an address cannot be judged.
  if (!privateLiteral(o.sentBy.host) || isIP(bare(o.destination.address)) === 0 || isPrivateAddress(bare(o.destination.address))) return undefined;
  let via;
  try {
    via = topVia(o.response);
  } catch {
    return undefined;
  }
  const base = { method: o.method, server: `${o.destination.address}:${o.destination.port}` };
  const sent = `${o.sentBy.host}:${o.sentBy.port}`;
  if (bare(via.host) !== bare(o.sentBy.host) || (via.port ?? 5060) !== o.sentBy.port) {
    return { kind: 'via-sent-by-changed', ...base, sent, seen: `${via.host}:${via.port ?? 5060}` };
  }
  const received = via.params.get('received');
  const rport = via.params.get('rport');
  if ((received === undefined || received === null) && rport !== undefined && rport !== null) {
    return { kind: 'via-received-missing', ...base, sent, seen: `rport=${rport}, no received` };
  }
  if (received && privateLiteral(received)) {
    return { kind: 'via-received-private', ...base, sent, seen: `received=${received}` };
  }
  if (o.method === 'REGISTER' && o.contact && o.response.status >= 200 && o.response.status < 300) return contactRewritten(o, base);
  return undefined;
}

function contactRewritten(o: ResponseObservation, base: { method: string; server: string }): AlgEvidence | undefined {
  const mine = o.contact;
  if (!mine?.instance) return undefined;
  let contacts;
  try {
    contacts = getContacts(o.response);
  } catch {
    return undefined;
  }
  const key = (u: SipUri) => `${bare(u.host)}:${u.port ?? 5060}`;
  const sent = key(mine.uri);
  let other: string | undefined;
  for (const c of contacts) {
    if (c === '*' || !isSipUri(c.uri)) continue;
    if (key(c.uri) === sent) return undefined;
    if (c.params.get('+sip.instance') === mine.instance) other = key(c.uri);
  }
  return other ? { kind: 'contact-rewritten', ...base, sent, seen: other } : undefined;
}

/** What the phone does about it, for the log and the status page. */
export const ALG_ADVICE =
  'a router rewrites SIP (SIP ALG): switch its "SIP ALG"/"SIP helper" off, or move SIP off port 5060 (sip.localPort) or to TCP/TLS (accounts.<id>.transport), which such helpers usually leave alone';

/**
 * Remembers the first evidence (an ALG does not come and go) and the server's view of our
 * address, from every response the client shows it.
 */
export class AlgDetector {
  private found: AlgEvidence | undefined;
  private reflexive: ServerReflexive | undefined;

  get evidence(): AlgEvidence | undefined {
    return this.found;
  }

  get detected(): boolean {
    return this.found !== undefined;
  }

  /** received/rport of the last response that had them: where the server sends to us. */
  get serverReflexive(): ServerReflexive | undefined {
    return this.reflexive;
  }

  /** Returns the evidence when this response is the first to show an ALG. */
  observe(o: ResponseObservation): AlgEvidence | undefined {
    this.reflexive = serverReflexive(o.response) ?? this.reflexive;
    if (this.found) return undefined;
    const e = inspectResponse(o);
    if (e) this.found = e;
    return e;
  }
}
