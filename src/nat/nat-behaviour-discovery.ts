// NAT behaviour discovery (RFC 5780 §4): which mapping and filtering the NAT in front of us has,
// the RFC 3489 class they make, and optionally how long an idle binding lives. `deskphone-agent
// nat-test` prints the result as JSON (DESIGN.md); the decisions are in nat-behaviour-decision.ts.
//
// Speed: RFC 5780 orders the tests, but only test I's OTHER-ADDRESS gates anything. The filtering
// tests run from a second port at once, beside the mapping tests (a second port because mapping
// tests II and III open the NAT towards the other address, RFC 5780 §4.4 would then see that);
// mapping tests II and III run together after test I. With a short RTO, the verdict costs about
// one RTT plus one STUN timeout (about 1.5 s), when a filter drops a test.
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { SystemClock, type Clock, type TimerHandle } from '../util/index.js';
import {
  decideBindingLifetime, decideNatBehaviour, lifetimeSchedule,
  type FilteringBehaviour, type FilteringObservations, type LifetimeProbe, type MappingBehaviour, type MappingObservations, type NatType,
  type TransportAddress,
} from './nat-behaviour-decision.js';
import { NatDiscoveryError } from './nat-discovery-error.js';
import { UdpProbeNetwork, type NatProbeNetwork, type NatProbePort } from './nat-probe-network.js';

/** Discovery's own RFC 8489 §6.2.1 timing: 4 sends over 0.7 s, then 0.8 s more: a dropped test costs 1.5 s, not 39.5 s. */
export const NAT_DISCOVERY_RTO_MS = 100;
export const NAT_DISCOVERY_RC = 4;
export const NAT_DISCOVERY_RM = 8;
export const STUN_DEFAULT_PORT = 3478;

export interface BindingLifetimeOptions {
  /** The longest idle time to probe; the measurement takes about this long. */
  readonly maxWaitS: number;
  /** Spacing of the probes (default maxWaitS / 10, at least 1 s; at most 16 probes). */
  readonly stepS?: number;
}

export interface NatDiscoveryOptions {
  /** The STUN server's primary address; it must do RFC 5780 (OTHER-ADDRESS, CHANGE-REQUEST). A name is resolved (IPv4). */
  readonly server: TransportAddress;
  /** Local IP to send from (default: the one the routing table picks). */
  readonly bindAddress?: string;
  /** RFC 5780 §4.6, off unless given: bounded by maxWaitS. */
  readonly bindingLifetime?: BindingLifetimeOptions;
  readonly rtoMs?: number;
  readonly rc?: number;
  readonly rm?: number;
  readonly software?: string;
  readonly clock?: Clock;
  /** The ports to test from (default: real UDP sockets). */
  readonly network?: NatProbeNetwork;
}

/** The `nat-test --json` object (DESIGN.md): natType, mapping, filtering, publicAddress, bindingLifetimeS. */
export interface NatDiscoveryResult {
  readonly natType: NatType;
  /** null when UDP is blocked. */
  readonly mapping: MappingBehaviour | null;
  /** null when UDP is blocked, or when it could not be told and did not decide the class (open, symmetric). */
  readonly filtering: FilteringBehaviour | null;
  /** The public IP (test I's mapped address), null when UDP is blocked. */
  readonly publicAddress: string | null;
  readonly mappedAddress: TransportAddress | null;
  readonly localAddress: TransportAddress;
  readonly server: TransportAddress;
  readonly otherAddress: TransportAddress | null;
  /** RFC 5780 §4.6, when measured: the longest idle time a binding survived. */
  readonly bindingLifetimeS?: number;
  /** The shortest idle time after which a binding was gone (absent: it outlived every probe). */
  readonly bindingExpiredS?: number;
  readonly timings: {
    /** From the first test to the class. */
    readonly verdictMs: number;
    readonly bindingLifetimeMs?: number;
    readonly totalMs: number;
  };
}

/** `host:port` or `host` (port 3478), IPv4 or a name; `[v6]:port` is refused (discovery is IPv4). */
export function parseStunServer(text: string): TransportAddress {
  const m = /^([A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[2] === undefined ? STUN_DEFAULT_PORT : Number(m[2]);
  if (!m?.[1] || !(port >= 1 && port <= 65535)) throw new NatDiscoveryError('bad-option', `not a STUN server host:port: ${JSON.stringify(text)}`);
  return { address: m[1], port };
}

async function resolveServer(server: TransportAddress): Promise<TransportAddress> {
  if (isIPv4(server.address)) return server;
  try {
    const { address } = await lookup(server.address, { family: 4 });
    return { address, port: server.port };
  } catch (err) {
    throw new NatDiscoveryError('resolve-failed', `cannot resolve ${server.address}: ${String(err)}`, { cause: err });
  }
}


/** Opens `count` ports; when one fails, closes the others and rethrows. */
async function openPorts(network: NatProbeNetwork, server: TransportAddress, count: number): Promise<NatProbePort[]> {
  const settled = await Promise.allSettled(Array.from({ length: count }, () => network.open(server)));
  const ports = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    for (const p of ports) p.close();
    throw failed.reason;
  }
  return ports;
}

/** RFC 5780 §4.3; tests II and III together once test I named OTHER-ADDRESS. */
async function mappingTests(port: NatProbePort, server: TransportAddress): Promise<MappingObservations> {
  const testI = await port.binding(server);
  const other = testI.kind === 'answer' ? testI.otherAddress : undefined;
  if (!other) return { local: port.local, testI };
  const [testII, testIII] = await Promise.all([port.binding({ address: other.address, port: server.port }), port.binding(other)]);
  return { local: port.local, testI, testII, testIII };
}

/** RFC 5780 §4.4; all three at once: each asks the same primary address, so none opens the NAT for another. */
async function filteringTests(port: NatProbePort, server: TransportAddress): Promise<FilteringObservations> {
  const [testI, testII, testIII] = await Promise.all([
    port.binding(server),
    port.binding(server, { changeIp: true, changePort: true }),
    port.binding(server, { changePort: true }),
  ]);
  return { testI, testII, testIII };
}

/**
 * RFC 5780 §4.6, in parallel rather than one binding after another: one port per idle time, each
 * makes a binding with test I, stays silent for its time, then has the server answer it via
 * RESPONSE-PORT from a fresh port (which keeps its own silence towards the server unbroken).
 * Once a binding is found gone, the probes still waiting with longer idle times are called off:
 * they could only be gone too, and the answer comes about one step after the real lifetime.
 */
async function measureBindingLifetime(network: NatProbeNetwork, server: TransportAddress, idleTimesS: readonly number[], clock: Clock): Promise<LifetimeProbe[]> {
  const ports = await openPorts(network, server, idleTimesS.length);
  let goneAfterS = Infinity;
  const sleeping = new Set<{ idleS: number; timer: TimerHandle; wake: () => void }>();
  const callOff = (idleS: number): void => {
    goneAfterS = Math.min(goneAfterS, idleS);
    for (const s of [...sleeping]) {
      if (s.idleS <= goneAfterS) continue;
      clock.cancel(s.timer);
      sleeping.delete(s);
      s.wake();
    }
  };
  try {
    const settled = await Promise.allSettled(ports.map(async (port, i): Promise<LifetimeProbe | undefined> => {
      const idleS = idleTimesS[i] ?? 0;
      const first = await port.binding(server);
      if (first.kind !== 'answer' || idleS > goneAfterS) return undefined;
      await new Promise<void>((resolve) => {
        const entry = { idleS, timer: clock.setTimer(idleS * 1000, () => (sleeping.delete(entry), resolve())), wake: resolve };
        sleeping.add(entry);
      });
      if (idleS > goneAfterS) return undefined;
      const alive = await port.answeredViaResponsePort(server, first.mapped.port);
      if (!alive) callOff(idleS);
      return { idleS, alive };
    }));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
  } finally {
    for (const s of sleeping) clock.cancel(s.timer);
    for (const p of ports) p.close();
  }
}

export interface BindingLifetimeMeasurement {
  /** The longest idle time a binding survived (0 when none did). */
  readonly bindingLifetimeS: number;
  /** The shortest idle time after which a binding was gone (absent: it outlived every probe). */
  readonly bindingExpiredS?: number;
  readonly durationMs: number;
}

/**
 * RFC 5780 §4.6 alone, at the given idle times (what the daemon runs after the class is known).
 * Undefined when no probe got a first answer (UDP blocked meanwhile).
 */
export async function measureNatBindingLifetime(
  options: Omit<NatDiscoveryOptions, 'bindingLifetime'> & { readonly idleTimesS: readonly number[] },
): Promise<BindingLifetimeMeasurement | undefined> {
  const clock = options.clock ?? new SystemClock();
  const times = options.idleTimesS;
  if (times.length === 0 || times.length > 32 || !times.every((t) => t > 0 && t <= 3600)) {
    throw new NatDiscoveryError('bad-option', `binding lifetime idle times: ${JSON.stringify(times)}`);
  }
  const server = await resolveServer(options.server);
  const startedMs = clock.now();
  const probes = await measureBindingLifetime(probeNetwork(options, clock), server, times, clock);
  if (probes.length === 0) return undefined;
  const { aliveS, expiredS } = decideBindingLifetime(probes);
  return { bindingLifetimeS: aliveS, ...(expiredS !== undefined ? { bindingExpiredS: expiredS } : {}), durationMs: clock.now() - startedMs };
}

function probeNetwork(options: Omit<NatDiscoveryOptions, 'bindingLifetime'>, clock: Clock): NatProbeNetwork {
  return options.network ?? new UdpProbeNetwork({
    rtoMs: options.rtoMs ?? NAT_DISCOVERY_RTO_MS,
    rc: options.rc ?? NAT_DISCOVERY_RC,
    rm: options.rm ?? NAT_DISCOVERY_RM,
    clock,
    ...(options.bindAddress !== undefined ? { bindAddress: options.bindAddress } : {}),
    ...(options.software !== undefined ? { software: options.software } : {}),
  });
}

export async function discoverNatBehaviour(options: NatDiscoveryOptions): Promise<NatDiscoveryResult> {
  const clock = options.clock ?? new SystemClock();
  const lifetime = options.bindingLifetime;
  if (lifetime && !(lifetime.maxWaitS > 0 && lifetime.maxWaitS <= 3600 && (lifetime.stepS ?? 1) > 0)) {
    throw new NatDiscoveryError('bad-option', `binding lifetime: max wait ${lifetime.maxWaitS} s, step ${String(lifetime.stepS)} s`);
  }
  const server = await resolveServer(options.server);
  const network = probeNetwork(options, clock);
  const startedMs = clock.now();
  const [mappingPort, filteringPort] = (await openPorts(network, server, 2)) as [NatProbePort, NatProbePort];
  let observed: [MappingObservations, FilteringObservations];
  try {
    observed = await Promise.all([mappingTests(mappingPort, server), filteringTests(filteringPort, server)]);
  } finally {
    mappingPort.close();
    filteringPort.close();
  }
  const verdict = decideNatBehaviour({ server, mapping: observed[0], filtering: observed[1] });
  const verdictMs = clock.now() - startedMs;
  if (verdict.kind === 'inconclusive') {
    const testI = observed[0].testI;
    throw new NatDiscoveryError(testI.kind === 'answer' && !testI.otherAddress ? 'bad-server' : 'inconclusive', verdict.reason);
  }

  let measured: { aliveS: number; expiredS: number | undefined; ms: number } | undefined;
  if (lifetime && verdict.natType !== 'udp-blocked') {
    const lifetimeStartMs = clock.now();
    const schedule = lifetimeSchedule(lifetime.maxWaitS, lifetime.stepS ?? Math.max(1, lifetime.maxWaitS / 10));
    const probes = await measureBindingLifetime(network, server, schedule, clock);
    if (probes.length > 0) measured = { ...decideBindingLifetime(probes), ms: clock.now() - lifetimeStartMs };
  }
  return {
    natType: verdict.natType,
    mapping: verdict.mapping,
    filtering: verdict.filtering,
    publicAddress: verdict.mappedAddress?.address ?? null,
    mappedAddress: verdict.mappedAddress,
    localAddress: observed[0].local,
    server,
    otherAddress: verdict.otherAddress,
    ...(measured ? { bindingLifetimeS: measured.aliveS } : {}),
    ...(measured?.expiredS !== undefined ? { bindingExpiredS: measured.expiredS } : {}),
    timings: { verdictMs, ...(measured ? { bindingLifetimeMs: measured.ms } : {}), totalMs: clock.now() - startedMs },
  };
}

/** A few lines for people (`nat-test` without --json). */
export function describeNatResult(r: NatDiscoveryResult): string {
  const at = (a: TransportAddress | null): string => (a ? `${a.address}:${a.port}` : 'none');
  return [
    `NAT type:        ${r.natType}`,
    `mapping:         ${r.mapping ?? 'unknown'}`,
    `filtering:       ${r.filtering ?? 'unknown'}`,
    `public address:  ${at(r.mappedAddress)} (local ${at(r.localAddress)}, STUN ${at(r.server)}, other ${at(r.otherAddress)})`,
    ...(r.bindingLifetimeS !== undefined
      ? [`binding lifetime: ${r.bindingLifetimeS} s${r.bindingExpiredS !== undefined ? ` (gone after ${r.bindingExpiredS} s)` : ' or more'}`]
      : []),
    `verdict in ${Math.round(r.timings.verdictMs)} ms`,
  ].join('\n');
}
