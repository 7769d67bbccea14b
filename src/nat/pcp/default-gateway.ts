// PCP and NAT-PMP talk to the default gateway (RFC 6886 §3, RFC 6887 §8.1). Linux lists the IPv4
// routes of the caller's network namespace in /proc/net/route, addresses as little-endian hex.
import { readFile } from 'node:fs/promises';

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const MAX_ROUTE_LINES = 1024;

/** The gateway of the default route with the lowest metric, or undefined. */
export function parseProcNetRoute(text: string): string | undefined {
  let best: { gateway: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1, MAX_ROUTE_LINES)) {
    const f = line.trim().split(/\s+/);
    const [, destination, gateway, flags, , , metric, mask] = f;
    if (destination !== '00000000' || mask !== '00000000' || !gateway || !/^[0-9A-Fa-f]{8}$/.test(gateway)) continue;
    const fl = parseInt(flags ?? '0', 16);
    if ((fl & (RTF_UP | RTF_GATEWAY)) !== (RTF_UP | RTF_GATEWAY)) continue;
    const n = parseInt(gateway, 16);
    const address = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
    const m = Number(metric ?? '0');
    if (!best || m < best.metric) best = { gateway: address, metric: m };
  }
  return best?.gateway;
}

export async function readDefaultGateway(path = '/proc/net/route'): Promise<string | undefined> {
  try {
    return parseProcNetRoute((await readFile(path, 'latin1')).slice(0, 128 * 1024));
  } catch {
    return undefined;
  }
}
