// NAT behaviour discovery, the decisions only (RFC 5780 §4.3, §4.4, §4.6, and the RFC 3489 §5
// classes): what the STUN tests answered in, a verdict out. No sockets, no timers: the driver in
// nat-behaviour-discovery.ts runs the tests and hands their outcomes here.

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

/** RFC 4787 §4.1 / RFC 5780 §4.3 names. */
export type MappingBehaviour = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent';
/** RFC 4787 §5 / RFC 5780 §4.4 names. */
export type FilteringBehaviour = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent';
/** The RFC 3489 classes, as DESIGN.md's `nat-test` JSON names them. */
export type NatType = 'open' | 'full-cone' | 'restricted-cone' | 'port-restricted-cone' | 'symmetric' | 'udp-blocked';

/** What one Binding test came back with. */
export type ProbeOutcome =
  | {
      readonly kind: 'answer';
      /** XOR-MAPPED-ADDRESS. */
      readonly mapped: TransportAddress;
      /** Where the answer datagram came from (checked against CHANGE-REQUEST). */
      readonly source: TransportAddress;
      /** OTHER-ADDRESS, when the server does RFC 5780. */
      readonly otherAddress: TransportAddress | undefined;
    }
  | { readonly kind: 'timeout' }
  /** An error response, a malformed one, or a send that failed: says nothing about the NAT. */
  | { readonly kind: 'error'; readonly reason: string };

export interface MappingObservations {
  /** The local transport address the tests were sent from (a real IP, not the wildcard). */
  readonly local: TransportAddress;
  /** Test I: to the primary address. */
  readonly testI: ProbeOutcome;
  /** Test II: to OTHER-ADDRESS's IP and the primary port (absent when test I failed). */
  readonly testII?: ProbeOutcome;
  /** Test III: to OTHER-ADDRESS (IP and port). */
  readonly testIII?: ProbeOutcome;
}

/** From a second local port, so that no mapping test opened the NAT towards the other address. */
export interface FilteringObservations {
  /** Test I: to the primary address. */
  readonly testI: ProbeOutcome;
  /** Test II: CHANGE-REQUEST change IP and port. */
  readonly testII: ProbeOutcome;
  /** Test III: CHANGE-REQUEST change port. */
  readonly testIII: ProbeOutcome;
}

export interface NatObservations {
  readonly server: TransportAddress;
  readonly mapping: MappingObservations;
  readonly filtering: FilteringObservations;
}

export type NatVerdict =
  | {
      readonly kind: 'verdict';
      readonly natType: NatType;
      /** null when UDP is blocked, or when filtering could not be told but did not matter. */
      readonly mapping: MappingBehaviour | null;
      readonly filtering: FilteringBehaviour | null;
      readonly mappedAddress: TransportAddress | null;
      readonly otherAddress: TransportAddress | null;
    }
  | { readonly kind: 'inconclusive'; readonly reason: string };

/** One behaviour, or why it could not be told. */
export type Decision<T> = { readonly kind: 'known'; readonly value: T } | { readonly kind: 'unknown'; readonly reason: string };

const sameAddress = (a: TransportAddress, b: TransportAddress): boolean => a.address === b.address && a.port === b.port;
const text = (a: TransportAddress): string => `${a.address}:${a.port}`;
const describe = (o: ProbeOutcome): string => (o.kind === 'error' ? o.reason : o.kind);

/** RFC 5780 §4.3: compare the mapped addresses of tests I, II and III. */
export function decideMapping(m: MappingObservations, server: TransportAddress): Decision<MappingBehaviour> {
  const { testI, testII, testIII } = m;
  if (testI.kind !== 'answer') return { kind: 'unknown', reason: `test I: ${describe(testI)}` };
  const other = testI.otherAddress;
  if (!other) return { kind: 'unknown', reason: `${text(server)} sent no OTHER-ADDRESS (no RFC 5780 support)` };
  if (other.address === server.address || other.port === server.port) {
    return { kind: 'unknown', reason: `OTHER-ADDRESS ${text(other)} does not differ from ${text(server)} in both IP and port` };
  }
  if (testII?.kind !== 'answer') return { kind: 'unknown', reason: `mapping test II: ${testII ? describe(testII) : 'not run'}` };
  if (sameAddress(testII.mapped, testI.mapped)) return { kind: 'known', value: 'endpoint-independent' };
  if (testIII?.kind !== 'answer') return { kind: 'unknown', reason: `mapping test III: ${testIII ? describe(testIII) : 'not run'}` };
  return { kind: 'known', value: sameAddress(testIII.mapped, testII.mapped) ? 'address-dependent' : 'address-and-port-dependent' };
}

/**
 * RFC 5780 §4.4. An answer counts only when it really came from where CHANGE-REQUEST asked: a
 * server that ignores the flag answers from the primary address, which any NAT lets in.
 */
export function decideFiltering(f: FilteringObservations, server: TransportAddress): Decision<FilteringBehaviour> {
  const { testI, testII, testIII } = f;
  if (testI.kind !== 'answer') return { kind: 'unknown', reason: `filtering test I: ${describe(testI)}` };
  if (testII.kind === 'error') return { kind: 'unknown', reason: `filtering test II: ${testII.reason}` };
  if (testII.kind === 'answer') {
    if (testII.source.address === server.address || testII.source.port === server.port) {
      return { kind: 'unknown', reason: `change IP and port answered from ${text(testII.source)}: CHANGE-REQUEST ignored` };
    }
    return { kind: 'known', value: 'endpoint-independent' };
  }
  if (testIII.kind === 'error') return { kind: 'unknown', reason: `filtering test III: ${testIII.reason}` };
  if (testIII.kind === 'timeout') return { kind: 'known', value: 'address-and-port-dependent' };
  if (testIII.source.address !== server.address || testIII.source.port === server.port) {
    return { kind: 'unknown', reason: `change port answered from ${text(testIII.source)}: CHANGE-REQUEST ignored` };
  }
  return { kind: 'known', value: 'address-dependent' };
}

/** RFC 3489 §5 classes from RFC 5780's two behaviours (RFC 5780 §1 explains the mapping). */
export function classifyNatType(mapping: MappingBehaviour, filtering: FilteringBehaviour): NatType {
  if (mapping !== 'endpoint-independent') return 'symmetric';
  switch (filtering) {
    case 'endpoint-independent':
      return 'full-cone';
    case 'address-dependent':
      return 'restricted-cone';
    case 'address-and-port-dependent':
      return 'port-restricted-cone';
  }
}

const noAnswer = (o: ProbeOutcome | undefined): boolean => o === undefined || o.kind === 'timeout';

export function decideNatBehaviour(obs: NatObservations): NatVerdict {
  const { server, mapping: m, filtering: f } = obs;
  if ([m.testI, f.testI, f.testII, f.testIII].every(noAnswer)) {
    return { kind: 'verdict', natType: 'udp-blocked', mapping: null, filtering: null, mappedAddress: null, otherAddress: null };
  }
  if (m.testI.kind !== 'answer') return { kind: 'inconclusive', reason: `mapping test I: ${describe(m.testI)}, yet other tests were answered` };
  const mappedAddress = m.testI.mapped;
  const otherAddress = m.testI.otherAddress ?? null;
  const filtering = decideFiltering(f, server);
  const filteringOrNull = filtering.kind === 'known' ? filtering.value : null;
  // RFC 3489 §10.1: no translation at all is the open Internet, whatever a firewall filters.
  if (sameAddress(mappedAddress, m.local)) {
    return { kind: 'verdict', natType: 'open', mapping: 'endpoint-independent', filtering: filteringOrNull, mappedAddress, otherAddress };
  }
  const mapping = decideMapping(m, server);
  if (mapping.kind === 'unknown') return { kind: 'inconclusive', reason: mapping.reason };
  if (mapping.value !== 'endpoint-independent') {
    return { kind: 'verdict', natType: 'symmetric', mapping: mapping.value, filtering: filteringOrNull, mappedAddress, otherAddress };
  }
  if (filtering.kind === 'unknown') return { kind: 'inconclusive', reason: filtering.reason };
  return {
    kind: 'verdict', natType: classifyNatType(mapping.value, filtering.value), mapping: mapping.value, filtering: filtering.value, mappedAddress, otherAddress,
  };
}

/** RFC 5780 §4.6: one binding left idle for `idleS`, then asked (via RESPONSE-PORT) whether it still lets the answer in. */
export interface LifetimeProbe {
  readonly idleS: number;
  readonly alive: boolean;
}

export interface BindingLifetime {
  /** The longest idle time the binding survived, with every shorter probe alive too (0 when none did). */
  readonly aliveS: number;
  /** The shortest idle time after which it was gone; undefined when it outlived every probe. */
  readonly expiredS: number | undefined;
}

export function decideBindingLifetime(probes: readonly LifetimeProbe[]): BindingLifetime {
  const sorted = [...probes].sort((a, b) => a.idleS - b.idleS);
  const firstDead = sorted.find((p) => !p.alive);
  const aliveS = sorted.filter((p) => p.alive && (firstDead === undefined || p.idleS < firstDead.idleS)).at(-1)?.idleS ?? 0;
  return { aliveS, expiredS: firstDead?.idleS };
}

/** Idle times to probe: every `stepS` up to `maxWaitS` (at most `maxProbes`, spread evenly). */
export function lifetimeSchedule(maxWaitS: number, stepS: number, maxProbes = 16): number[] {
  if (!(maxWaitS > 0) || !(stepS > 0)) return [];
  const count = Math.min(maxProbes, Math.max(1, Math.floor(maxWaitS / stepS)));
  const spacing = maxWaitS / count;
  return Array.from({ length: count }, (_, i) => Math.round((i + 1) * spacing * 1000) / 1000);
}
