// RFC 3261 §18.2.1 and RFC 3581 §4 (the server side of received/rport), and §18.2.2 + RFC 3581
// (where a response goes). Pure functions over the top Via and the arrival information.
import { isIP } from 'node:net';
import type { SipRequest, Via } from '../message/index.js';
import { topVia } from '../message/index.js';
import type { Destination, Endpoint } from './transport-types.js';

function bare(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/**
 * §18.2.1: add received= when the sent-by host differs from the packet's source address;
 * RFC 3581 §4: fill in rport= when the request asked for it. Changes the request's top Via.
 */
export function stampReceived(req: SipRequest, source: Endpoint): void {
  const via = topVia(req);
  let changed = false;
  if (bare(via.host).toLowerCase() !== source.address.toLowerCase() || via.params.has('rport')) {
    via.params.set('received', source.address);
    changed = true;
  }
  if (via.params.has('rport') && via.params.get('rport') === null) {
    via.params.set('rport', String(source.port));
    changed = true;
  }
  if (!changed) return;
  let rewritten = `${via.protocol}/${via.transport} ${via.host}${via.port !== undefined ? `:${via.port}` : ''}`;
  for (const [k, v] of via.params) rewritten += v === null ? `;${k}` : `;${k}=${v}`;
  req.headers.replaceFirst('Via', rewritten);
  // The Via just written is the one already parsed and stamped: no need to parse it again.
  req.headers.cached('via.top', () => via);
}

const DEFAULT_PORT: Record<string, number> = { UDP: 5060, TCP: 5060, TLS: 5061, SCTP: 5060 };

/**
 * §18.2.2 + RFC 3581 §4: where a response to a request goes, given its top Via and how the
 * request arrived.
 */
export function responseDestination(via: Via, arrival: Destination): Destination {
  const transport = via.transport;
  if (arrival.reliable && arrival.connectionId !== undefined) {
    // Reliable: the connection the request came on, while it is open (the caller falls back to
    // connecting to received/sent-by when it is gone).
    return arrival;
  }
  const maddr = via.params.get('maddr');
  if (maddr) return { transport, address: bare(maddr), port: via.port ?? DEFAULT_PORT[transport] ?? 5060, reliable: arrival.reliable };
  const received = via.params.get('received');
  const rport = via.params.get('rport');
  const address = received ? bare(received) : isIP(bare(via.host)) ? bare(via.host) : arrival.address;
  // RFC 3581: with rport, answer to the source port; without it, to the sent-by port.
  const port = rport !== undefined && rport !== null && /^\d{1,5}$/.test(rport) ? Number(rport) : via.port ?? DEFAULT_PORT[transport] ?? 5060;
  return { transport, address, port, reliable: arrival.reliable };
}
