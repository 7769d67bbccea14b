// Which addresses and ports a session description may point our media at. The SDP layer only
// checks literals: it never resolves names and never picks local addresses (the port manager does).
import { SdpError } from './sdp-error.js';

export type IpFamily = 'IP4' | 'IP6';

/**
 * What a checked media address means for sending: `unicast` is a peer to send to; `hold` is the
 * unspecified address, RFC 3264 §8.4's old way to ask that no RTP or RTCP be sent; `disabled` is
 * port 0, a stream that is rejected or turned off (RFC 3264 §6).
 */
export type MediaAddressUse = 'unicast' | 'hold' | 'disabled';

export interface MediaAddressOptions {
  /** Accept ports 1..1023; off by default so an offer cannot aim our RTP at a well-known service. */
  readonly allowLowPorts?: boolean;
}

const MAX_PORT = 65535;
const FIRST_UNPRIVILEGED_PORT = 1024;

/** Checks the address and port an SDP gives for a stream; throws SdpError for those we refuse. */
export function checkMediaAddress(address: string, port: number, options: MediaAddressOptions = {}): MediaAddressUse {
  if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) throw new SdpError('bad-port', `port ${port} is out of range`);
  if (port === 0) return 'disabled';
  if (port < FIRST_UNPRIVILEGED_PORT && options.allowLowPorts !== true) {
    throw new SdpError('bad-port', `port ${port} is a privileged port`);
  }
  // RFC 4566 §5.7: a /ttl or /count suffix belongs to multicast addresses only.
  const [literal = '', ...suffix] = address.split('/');
  const parsed = parseIpAddress(literal);
  if (parsed === undefined) throw new SdpError('bad-connection', `"${printable(address)}" is not an IP address literal`);
  const ip = unmapped(parsed);
  if (isMulticast(ip)) throw new SdpError('multicast', `${printable(address)} is a multicast address`);
  if (suffix.length > 0) throw new SdpError('bad-connection', `"${printable(address)}" is not a unicast address literal`);
  if (ip.family === 'IP4' && ip.bytes.every((b) => b === 255)) throw new SdpError('broadcast', `${address} is the broadcast address`);
  return ip.bytes.every((b) => b === 0) ? 'hold' : 'unicast';
}

/** The family of an IPv4 or IPv6 literal, or undefined when the text is neither (a name, a zone id, a TTL). */
export function ipFamily(address: string): IpFamily | undefined {
  return parseIpAddress(address)?.family;
}

interface IpAddress {
  readonly family: IpFamily;
  readonly bytes: readonly number[];
}

function parseIpAddress(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 'IP4', bytes: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { family: 'IP6', bytes: v6 };
}

/** Dotted quad without leading zeros (which some stacks read as octal). */
function parseIpv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  const bytes = m.slice(1).map((part) => (part.length > 1 && part.startsWith('0') ? NaN : Number(part)));
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

/** RFC 4291 §2.2 text forms: eight groups, one `::`, optionally an IPv4 tail. */
function parseIpv6(text: string): number[] | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  let head = text;
  const tail: number[] = [];
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':');
    const v4 = colon < 0 ? undefined : parseIpv4(text.slice(colon + 1));
    if (v4 === undefined) return undefined;
    tail.push(...v4);
    head = text.slice(0, colon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (left === undefined || right === undefined) return undefined;
  const given = left.length * 2 + right.length * 2 + tail.length;
  if (halves.length === 1 ? given !== 16 : given > 14) return undefined;
  return [...left.flatMap(split16), ...new Array<number>(16 - given).fill(0), ...right.flatMap(split16), ...tail];
}

function groups(part: string): number[] | undefined {
  if (part === '') return [];
  const out: number[] = [];
  for (const g of part.split(':')) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

const split16 = (group: number): number[] => [group >> 8, group & 0xff];

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) reaches the IPv4 host it maps. */
function unmapped(ip: IpAddress): IpAddress {
  const mapped = ip.family === 'IP6' && ip.bytes.slice(0, 10).every((b) => b === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
  return mapped ? { family: 'IP4', bytes: ip.bytes.slice(12) } : ip;
}

function isMulticast(ip: IpAddress): boolean {
  const [b0 = 0] = ip.bytes;
  return ip.family === 'IP4' ? b0 >= 224 && b0 <= 239 : b0 === 0xff; // 224.0.0.0/4, ff00::/8
}

/** Peer text in an error message, cut short and without control characters. */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}
