// PCP carries every address in 128 bits (RFC 6887 §5): IPv6 as is, IPv4 as IPv4-mapped IPv6
// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2).
import { isIPv4, isIPv6 } from 'node:net';
import { PortControlError } from './port-control-error.js';

export function toPcpAddress(ip: string): Uint8Array {
  const out = new Uint8Array(16);
  if (isIPv4(ip)) {
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(ip.split('.').map(Number), 12);
    return out;
  }
  if (!isIPv6(ip)) throw new PortControlError('malformed', `not an IP address: ${ip.slice(0, 60)}`);
  const [head = '', tail] = ip.toLowerCase().split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  let parts = [...groups(head), ...(tail === undefined ? [] : ['::', ...groups(tail)])];
  const last = parts[parts.length - 1] ?? '';
  if (isIPv4(last)) {
    const b = last.split('.').map(Number);
    parts = [...parts.slice(0, -1), (((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16), (((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16)];
  }
  const fill = 8 - parts.filter((p) => p !== '::').length;
  const all = parts.flatMap((p) => (p === '::' ? new Array<string>(fill).fill('0') : [p]));
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** IPv4-mapped addresses come back as dotted quads; other addresses as compressed IPv6 text. */
export function fromPcpAddress(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new PortControlError('malformed', 'PCP address is not 16 bytes');
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.subarray(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // RFC 5952 §4.2.3: the longest run of two or more zero groups (the first on a tie) becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
