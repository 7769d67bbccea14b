// Helpers for unit tests that drive real sockets with a fake clock, and a DNS that is never asked.
import type { DnsResolver } from '../../src/sip/dns/index.js';
import type { FakeClock } from '../../src/util/index.js';

/** Moves the fake clock `ms` forward in `stepMs` steps, letting datagrams arrive between them. */
export async function advanceInSteps(clock: FakeClock, ms: number, stepMs: number): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(stepMs);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 20));
}

/** A resolver for tests whose servers are IP literals: any lookup is a failure of the test. */
export const NO_DNS: DnsResolver = {
  naptr: () => Promise.reject(new Error('no DNS in this test')),
  srv: () => Promise.reject(new Error('no DNS in this test')),
  a: () => Promise.reject(new Error('no DNS in this test')),
  aaaa: () => Promise.reject(new Error('no DNS in this test')),
};
