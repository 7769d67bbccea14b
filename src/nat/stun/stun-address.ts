// Transport addresses in STUN attributes (RFC 8489 §14.1, §14.2): IP text <-> network bytes.
import { isIPv4, isIPv6 } from 'node:net';
import { StunError } from './stun-error.js';

export type StunFamily = 'IPv4' | 'IPv6';

export interface StunAddress {
  readonly family: StunFamily;
  /** Dotted quad, or RFC 5952 text for IPv6 (IPv4-mapped as ::ffff:a.b.c.d, as Node reports it). */
  readonly address: string;
  readonly port: number;
}

/** Family code on the wire (RFC 8489 §14.1). */
export const FAMILY_CODE: Readonly<Record<StunFamily, number>> = { IPv4: 0x01, IPv6: 0x02 };

export function ipToBytes(address: string): { family: StunFamily; bytes: Uint8Array } {
  if (isIPv4(address)) return { family: 'IPv4', bytes: Uint8Array.from(address.split('.').map(Number)) };
  const bare = address.split('%')[0] ?? '';
  if (!isIPv6(bare)) throw new StunError('bad-value', `not an IP address: ${JSON.stringify(address)}`);
  const bytes = new Uint8Array(16);
  let text = bare;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    bytes.set(dotted[1].split('.').map(Number), 12);
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  all.forEach((g, i) => {
    if (i >= 6 && dotted) return;
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return { family: 'IPv6', bytes };
}

export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.subarray(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952 §4.2: compress the longest run (first on a tie) of two or more zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
