import { networkInterfaces } from 'node:os';

/** The first non-internal IPv4 address of the machine (127.0.0.1 when there is none). */
export function localAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
