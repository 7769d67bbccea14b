// SSDP search messages (UPnP Device Architecture 2.0 §1.3.2, §1.3.3): the M-SEARCH a control
// point multicasts and the unicast answers it gets back, parsed with limits. Pure, no sockets.
import { isIP } from 'node:net';
import { IgdError } from './upnp-error.js';

export const SSDP_MULTICAST_ADDRESS = '239.255.255.250';
export const SSDP_PORT = 1900;
export const IGD_SEARCH_TARGETS = [
  'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  'urn:schemas-upnp-org:device:InternetGatewayDevice:2',
] as const;

/** Real answers are a few hundred bytes; anything near a full datagram is not an IGD talking. */
export const SSDP_MAX_RESPONSE_BYTES = 4096;
const SSDP_MAX_HEADER_LINES = 40;
const SSDP_MAX_LOCATION_CHARS = 512;

export interface SsdpResponse {
  /** The device description URL, validated: http, an IP literal host equal to the sender. */
  readonly location: string;
  /** The search target the device answered for (ST). */
  readonly searchTarget: string;
  readonly usn?: string;
  readonly server?: string;
}

/** UDA 2.0 §1.3.2: MX between 1 and 5 seconds; the device answers after a random delay up to MX. */
export function buildMSearch(searchTarget: string, mxS: number): Buffer {
  if (!/^[\x21-\x7e]{1,200}$/.test(searchTarget)) throw new IgdError('malformed', 'search target must be printable ASCII');
  const mx = Math.min(5, Math.max(1, Math.round(mxS)));
  const lines = [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${SSDP_MULTICAST_ADDRESS}:${SSDP_PORT}`,
    'MAN: "ssdp:discover"',
    `MX: ${mx}`,
    `ST: ${searchTarget}`,
    '',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/**
 * Parses one unicast search answer (`HTTP/1.1 200 OK` + headers). Returns undefined for datagrams
 * that are not search answers (NOTIFY, M-SEARCH from other control points). Throws IgdError for an
 * answer that breaks the limits or whose LOCATION the client must not follow; with
 * `senderAddress`, LOCATION must name that same host, so a LAN device cannot point the phone at
 * some other server.
 */
export function parseSsdpResponse(bytes: Uint8Array, senderAddress?: string): SsdpResponse | undefined {
  if (bytes.length > SSDP_MAX_RESPONSE_BYTES) throw new IgdError('too-large', `SSDP answer of ${bytes.length} bytes`);
  const text = Buffer.from(bytes).toString('latin1');
  const lines = text.split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200\b/.test(lines[0] ?? '')) return undefined;
  const headers = new Map<string, string>();
  let count = 0;
  for (const line of lines.slice(1)) {
    if (line === '') break;
    if (++count > SSDP_MAX_HEADER_LINES) throw new IgdError('too-large', 'too many SSDP header lines');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new IgdError('malformed', 'SSDP header line without a name');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  const location = headers.get('location');
  const searchTarget = headers.get('st');
  if (location === undefined || searchTarget === undefined) throw new IgdError('malformed', 'SSDP answer without LOCATION or ST');
  return {
    location: checkLocation(location, senderAddress),
    searchTarget,
    ...optional('usn', headers.get('usn')),
    ...optional('server', headers.get('server')),
  };
}

function checkLocation(location: string, senderAddress: string | undefined): string {
  if (location.length > SSDP_MAX_LOCATION_CHARS) throw new IgdError('too-large', 'LOCATION too long');
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new IgdError('bad-url', `LOCATION is not a URL: ${location.slice(0, 80)}`);
  }
  if (url.protocol !== 'http:') throw new IgdError('bad-url', `LOCATION is not http: ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new IgdError('bad-url', 'LOCATION carries credentials');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (senderAddress !== undefined && (isIP(host) === 0 || host !== senderAddress)) {
    throw new IgdError('bad-url', `LOCATION host ${host} is not the sender ${senderAddress}`);
  }
  return url.href;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
