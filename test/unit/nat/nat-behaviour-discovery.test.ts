// NAT behaviour discovery (RFC 5780 §4.3, §4.4, §4.6; RFC 3489 classes): every decision branch
// from fake STUN outcomes, then the driver against a simulated NAT on a fake clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../../../src/util/index.js';
import {
  classifyNatType, decideBindingLifetime, decideFiltering, decideMapping, decideNatBehaviour, lifetimeSchedule,
  type FilteringBehaviour, type FilteringObservations, type MappingBehaviour, type MappingObservations, type NatType, type ProbeOutcome,
  type TransportAddress,
} from '../../../src/nat/nat-behaviour-decision.js';
import { describeNatResult, discoverNatBehaviour, measureNatBindingLifetime, parseStunServer, type NatDiscoveryResult } from '../../../src/nat/nat-behaviour-discovery.js';
import { BINDING_LIFETIME_PROBES_S } from '../../../src/nat/keepalive-interval.js';
import { NatDiscoveryError } from '../../../src/nat/nat-discovery-error.js';
import type { ChangeRequest, NatProbeNetwork, NatProbePort } from '../../../src/nat/nat-probe-network.js';

const at = (address: string, port: number): TransportAddress => ({ address, port });
const SERVER = at('192.0.2.1', 3478);
const OTHER = at('192.0.2.2', 3479);
const LOCAL = at('10.0.0.2', 5060);
const answer = (mapped: TransportAddress, source: TransportAddress = SERVER, otherAddress: TransportAddress | undefined = OTHER): ProbeOutcome => ({
  kind: 'answer', mapped, source, otherAddress,
});
const TIMEOUT: ProbeOutcome = { kind: 'timeout' };
const ERROR: ProbeOutcome = { kind: 'error', reason: '420 Unknown Attribute' };
const P1 = at('198.51.100.7', 40000);
const P2 = at('198.51.100.7', 40001);
const P3 = at('198.51.100.7', 40002);

const mappingObs = (testII: ProbeOutcome | undefined, testIII?: ProbeOutcome, testI: ProbeOutcome = answer(P1)): MappingObservations => ({
  local: LOCAL, testI, ...(testII ? { testII } : {}), ...(testIII ? { testIII } : {}),
});
const filteringObs = (testII: ProbeOutcome, testIII: ProbeOutcome, testI: ProbeOutcome = answer(P1)): FilteringObservations => ({ testI, testII, testIII });
const FROM_OTHER = answer(P1, OTHER);
const FROM_OTHER_PORT = answer(P1, at(SERVER.address, OTHER.port));

describe('RFC 5780 §4.3 mapping decision', () => {
  test('test II mapped like test I: endpoint-independent', () => {
    assert.deepEqual(decideMapping(mappingObs(answer(P1)), SERVER), { kind: 'known', value: 'endpoint-independent' });
  });
  test('test II differs, test III mapped like test II: address-dependent', () => {
    assert.deepEqual(decideMapping(mappingObs(answer(P2), answer(P2)), SERVER), { kind: 'known', value: 'address-dependent' });
  });
  test('test II and test III each differ: address-and-port-dependent', () => {
    assert.deepEqual(decideMapping(mappingObs(answer(P2), answer(P3)), SERVER), { kind: 'known', value: 'address-and-port-dependent' });
  });
  test('cannot be told without OTHER-ADDRESS, with an OTHER-ADDRESS on the same IP, or when test II or III fails', () => {
    const cases: MappingObservations[] = [
      mappingObs(undefined, undefined, answer(P1, SERVER, undefined)),
      mappingObs(answer(P1), undefined, answer(P1, SERVER, at(SERVER.address, 3479))),
      mappingObs(TIMEOUT),
      mappingObs(answer(P2), ERROR),
      mappingObs(undefined, undefined, TIMEOUT),
    ];
    for (const c of cases) assert.equal(decideMapping(c, SERVER).kind, 'unknown');
  });
});

describe('RFC 5780 §4.4 filtering decision', () => {
  test('change IP and port answered: endpoint-independent', () => {
    assert.deepEqual(decideFiltering(filteringObs(FROM_OTHER, FROM_OTHER_PORT), SERVER), { kind: 'known', value: 'endpoint-independent' });
  });
  test('only change port answered: address-dependent', () => {
    assert.deepEqual(decideFiltering(filteringObs(TIMEOUT, FROM_OTHER_PORT), SERVER), { kind: 'known', value: 'address-dependent' });
  });
  test('neither answered: address-and-port-dependent', () => {
    assert.deepEqual(decideFiltering(filteringObs(TIMEOUT, TIMEOUT), SERVER), { kind: 'known', value: 'address-and-port-dependent' });
  });
  test('an answer from the primary address means CHANGE-REQUEST was ignored, not an open filter', () => {
    assert.match(String((decideFiltering(filteringObs(answer(P1), TIMEOUT), SERVER) as { reason: string }).reason), /CHANGE-REQUEST ignored/);
    assert.equal(decideFiltering(filteringObs(TIMEOUT, answer(P1)), SERVER).kind, 'unknown');
  });
  test('a failed test I or an error response leaves filtering unknown', () => {
    assert.equal(decideFiltering(filteringObs(TIMEOUT, TIMEOUT, TIMEOUT), SERVER).kind, 'unknown');
    assert.equal(decideFiltering(filteringObs(ERROR, TIMEOUT), SERVER).kind, 'unknown');
    assert.equal(decideFiltering(filteringObs(TIMEOUT, ERROR), SERVER).kind, 'unknown');
  });
});

describe('RFC 3489 classes', () => {
  const B: readonly FilteringBehaviour[] = ['endpoint-independent', 'address-dependent', 'address-and-port-dependent'];
  test('EIM with EIF, ADF, APDF is full, restricted, port-restricted cone; any other mapping is symmetric', () => {
    assert.deepEqual(B.map((f) => classifyNatType('endpoint-independent', f)), ['full-cone', 'restricted-cone', 'port-restricted-cone']);
    for (const m of ['address-dependent', 'address-and-port-dependent'] as const) {
      assert.deepEqual(B.map((f) => classifyNatType(m, f)), ['symmetric', 'symmetric', 'symmetric']);
    }
  });
  const obs = (mapping: MappingObservations, filtering: FilteringObservations) => decideNatBehaviour({ server: SERVER, mapping, filtering });
  test('no answer to any test I, II or III: udp-blocked, with nothing else known', () => {
    assert.deepEqual(obs(mappingObs(undefined, undefined, TIMEOUT), filteringObs(TIMEOUT, TIMEOUT, TIMEOUT)), {
      kind: 'verdict', natType: 'udp-blocked', mapping: null, filtering: null, mappedAddress: null, otherAddress: null,
    });
  });
  test('mapped address equal to the local one: open, with whatever filtering a firewall does', () => {
    const mapping = mappingObs(answer(LOCAL), answer(LOCAL), answer(LOCAL));
    const v = obs({ ...mapping, testI: answer(LOCAL) }, filteringObs(TIMEOUT, TIMEOUT));
    assert.deepEqual(v, { kind: 'verdict', natType: 'open', mapping: 'endpoint-independent', filtering: 'address-and-port-dependent', mappedAddress: LOCAL, otherAddress: OTHER });
    const noRfc5780 = obs(mappingObs(undefined, undefined, answer(LOCAL, SERVER, undefined)), filteringObs(ERROR, ERROR));
    assert.equal(noRfc5780.kind === 'verdict' && noRfc5780.natType, 'open');
  });
  test('symmetric needs no filtering verdict; a cone does', () => {
    const symmetric = obs(mappingObs(answer(P2), answer(P3)), filteringObs(ERROR, TIMEOUT));
    assert.deepEqual(symmetric.kind === 'verdict' && [symmetric.natType, symmetric.filtering], ['symmetric', null]);
    assert.equal(obs(mappingObs(answer(P1)), filteringObs(ERROR, TIMEOUT)).kind, 'inconclusive');
  });
  test('a lost mapping test I while the filtering port was answered is inconclusive, not udp-blocked', () => {
    assert.equal(obs(mappingObs(undefined, undefined, TIMEOUT), filteringObs(TIMEOUT, TIMEOUT)).kind, 'inconclusive');
    assert.equal(obs(mappingObs(undefined, undefined, ERROR), filteringObs(TIMEOUT, TIMEOUT, TIMEOUT)).kind, 'inconclusive');
  });
  test('address-dependent mapping with address-dependent filtering is symmetric, and says both', () => {
    assert.deepEqual(obs(mappingObs(answer(P2), answer(P2)), filteringObs(TIMEOUT, FROM_OTHER_PORT)), {
      kind: 'verdict', natType: 'symmetric', mapping: 'address-dependent', filtering: 'address-dependent', mappedAddress: P1, otherAddress: OTHER,
    });
  });
});

describe('RFC 5780 §4.6 binding lifetime decision', () => {
  test('the longest idle time survived before the first expiry', () => {
    assert.deepEqual(decideBindingLifetime([{ idleS: 3, alive: false }, { idleS: 1, alive: true }, { idleS: 2, alive: true }]), { aliveS: 2, expiredS: 3 });
  });
  test('an answer after a longer idle time than one that expired does not count', () => {
    assert.deepEqual(decideBindingLifetime([{ idleS: 1, alive: true }, { idleS: 2, alive: false }, { idleS: 3, alive: true }]), { aliveS: 1, expiredS: 2 });
  });
  test('alive throughout: no expiry; dead at once: zero', () => {
    assert.deepEqual(decideBindingLifetime([{ idleS: 5, alive: true }, { idleS: 10, alive: true }]), { aliveS: 10, expiredS: undefined });
    assert.deepEqual(decideBindingLifetime([{ idleS: 5, alive: false }]), { aliveS: 0, expiredS: 5 });
  });
  test('the schedule steps up to the max wait, with at most 16 probes', () => {
    assert.deepEqual(lifetimeSchedule(4, 1), [1, 2, 3, 4]);
    assert.deepEqual(lifetimeSchedule(120, 1).length, 16);
    assert.equal(lifetimeSchedule(120, 1).at(-1), 120);
    assert.deepEqual(lifetimeSchedule(0, 1), []);
  });
});

test('STUN server text: host:port, host alone (3478); junk is a bad-option error', () => {
  assert.deepEqual(parseStunServer('203.0.113.10:3479'), at('203.0.113.10', 3479));
  assert.deepEqual(parseStunServer('stun.example.net'), at('stun.example.net', 3478));
  for (const bad of ['', 'a b:1', 'host:0', 'host:70000', '[::1]:3478']) {
    assert.throws(() => parseStunServer(bad), (e: unknown) => e instanceof NatDiscoveryError && e.code === 'bad-option', bad);
  }
});

// A NAT in front of the probe ports, as RFC 4787 describes it: a mapping per the mapping
// behaviour, inbound let in per the filtering behaviour, both forgotten after lifetimeS idle.
interface FakeNat {
  readonly mapping: MappingBehaviour | 'none';
  readonly filtering: FilteringBehaviour;
  readonly blocked?: boolean;
  readonly lifetimeS?: number;
  readonly noOtherAddress?: boolean;
}
const RTT_MS = 10;
const TIMEOUT_MS = 1500;
const PUBLIC_IP = '198.51.100.7';
const otherIp = (ip: string): string => (ip === SERVER.address ? OTHER.address : SERVER.address);
const otherPort = (port: number): number => (port === SERVER.port ? OTHER.port : SERVER.port);

class FakeNatNetwork implements NatProbeNetwork {
  readonly sent: Array<{ localPort: number; to: string; change: ChangeRequest }> = [];
  openPorts = 0;
  private nextLocal = 50000;
  private nextPublic = 60000;
  private readonly mappings = new Map<string, { port: number; lastMs: number; localPort: number }>();
  /** public port -> remote "ip:port" -> last outbound packet. */
  private readonly permits = new Map<number, Map<string, number>>();

  constructor(private readonly nat: FakeNat, private readonly clock: FakeClock) {}

  async open(): Promise<NatProbePort> {
    const local = at(this.nat.mapping === 'none' ? PUBLIC_IP : '10.0.0.2', this.nextLocal++);
    this.openPorts++;
    let closed = false;
    const port: NatProbePort = {
      local,
      binding: async (server, change = {}) => {
        assert.equal(closed, false, 'binding on a closed port');
        const mapped = this.outbound(local.port, server, change);
        const source = at(change.changeIp ? otherIp(server.address) : server.address, change.changePort ? otherPort(server.port) : server.port);
        const inbound = mapped && this.letsIn(mapped.port, source);
        await new Promise((r) => this.clock.setTimer(inbound ? RTT_MS : TIMEOUT_MS, () => r(undefined)));
        if (!mapped || !inbound) return { kind: 'timeout' };
        const otherAddress = this.nat.noOtherAddress ? undefined : at(otherIp(server.address), otherPort(server.port));
        return { kind: 'answer', mapped, source, otherAddress };
      },
      answeredViaResponsePort: async (server, mappedPort) => {
        const sender = this.nextLocal++;
        const ok = this.outbound(sender, server, {}) !== undefined && this.letsIn(mappedPort, server);
        await new Promise((r) => this.clock.setTimer(ok ? RTT_MS : TIMEOUT_MS, () => r(undefined)));
        return ok;
      },
      close: () => {
        closed = true;
        this.openPorts--;
      },
    };
    return port;
  }

  private alive(lastMs: number): boolean {
    return this.clock.now() - lastMs < (this.nat.lifetimeS ?? Infinity) * 1000;
  }

  private outbound(localPort: number, to: TransportAddress, change: ChangeRequest): TransportAddress | undefined {
    this.sent.push({ localPort, to: `${to.address}:${to.port}`, change });
    if (this.nat.blocked) return undefined;
    if (this.nat.mapping === 'none') return at(PUBLIC_IP, localPort);
    const key = { 'endpoint-independent': `${localPort}`, 'address-dependent': `${localPort}/${to.address}`, 'address-and-port-dependent': `${localPort}/${to.address}:${to.port}` }[this.nat.mapping];
    let m = this.mappings.get(key);
    if (!m || !this.alive(m.lastMs)) this.mappings.set(key, (m = { port: this.nextPublic++, lastMs: 0, localPort }));
    m.lastMs = this.clock.now();
    const permits = this.permits.get(m.port) ?? new Map<string, number>();
    permits.set(`${to.address}:${to.port}`, this.clock.now());
    this.permits.set(m.port, permits);
    return at(PUBLIC_IP, m.port);
  }

  private letsIn(publicPort: number, from: TransportAddress): boolean {
    if (this.nat.mapping === 'none' && this.nat.filtering === 'endpoint-independent') return true;
    const live = [...(this.permits.get(publicPort) ?? [])].filter(([, lastMs]) => this.alive(lastMs)).map(([remote]) => remote);
    switch (this.nat.filtering) {
      case 'endpoint-independent':
        return live.length > 0;
      case 'address-dependent':
        return live.some((r) => r.startsWith(`${from.address}:`));
      case 'address-and-port-dependent':
        return live.includes(`${from.address}:${from.port}`);
    }
  }
}

/** Runs discovery on the fake clock, 5 ms a turn, until it settles. */
async function discoverBehind(nat: FakeNat, extra: { maxWaitS?: number; stepS?: number } = {}) {
  const clock = new FakeClock(1000);
  const network = new FakeNatNetwork(nat, clock);
  let outcome: { result: NatDiscoveryResult } | { error: unknown } | undefined;
  discoverNatBehaviour({
    server: SERVER, clock, network,
    ...(extra.maxWaitS !== undefined ? { bindingLifetime: { maxWaitS: extra.maxWaitS, ...(extra.stepS !== undefined ? { stepS: extra.stepS } : {}) } } : {}),
  }).then((result) => (outcome = { result }), (error: unknown) => (outcome = { error }));
  for (let turns = 0; !outcome; turns++) {
    assert.ok(turns < 100_000, 'discovery never settled');
    await new Promise((r) => setImmediate(r));
    if (!outcome) clock.advance(5);
  }
  return { outcome, network };
}

describe('discovery against a simulated NAT', () => {
  const EXPECTED: ReadonlyArray<[MappingBehaviour, FilteringBehaviour, NatType]> = [
    ['endpoint-independent', 'endpoint-independent', 'full-cone'],
    ['endpoint-independent', 'address-dependent', 'restricted-cone'],
    ['endpoint-independent', 'address-and-port-dependent', 'port-restricted-cone'],
    ['address-dependent', 'address-dependent', 'symmetric'],
    ['address-and-port-dependent', 'endpoint-independent', 'symmetric'],
    ['address-and-port-dependent', 'address-and-port-dependent', 'symmetric'],
  ];
  for (const [mapping, filtering, natType] of EXPECTED) {
    test(`${mapping} mapping with ${filtering} filtering is ${natType}, in one RTT plus at most one STUN timeout`, async () => {
      const { outcome, network } = await discoverBehind({ mapping, filtering });
      assert.ok('result' in outcome, String('error' in outcome && outcome.error));
      const r = outcome.result;
      assert.deepEqual([r.natType, r.mapping, r.filtering, r.publicAddress], [natType, mapping, filtering, PUBLIC_IP]);
      assert.deepEqual(r.otherAddress, OTHER);
      assert.equal(r.bindingLifetimeS, undefined);
      // Tests run side by side: a sequential RFC 5780 run would take up to 2 timeouts more.
      assert.equal(r.timings.verdictMs, filtering === 'endpoint-independent' ? 2 * RTT_MS : TIMEOUT_MS);
      assert.equal(network.openPorts, 0, 'every port closed');
      // The filtering port never talked to the other address (which would open an ADF filter).
      const filteringPorts = new Set(network.sent.filter((s) => s.change.changeIp || s.change.changePort).map((s) => s.localPort));
      assert.ok(network.sent.every((s) => !s.to.startsWith(OTHER.address) || !filteringPorts.has(s.localPort)));
    });
  }

  test('no NAT: open, with the firewall-free filtering', async () => {
    const { outcome } = await discoverBehind({ mapping: 'none', filtering: 'endpoint-independent' });
    assert.ok('result' in outcome);
    assert.deepEqual([outcome.result.natType, outcome.result.mapping, outcome.result.filtering], ['open', 'endpoint-independent', 'endpoint-independent']);
    assert.match(describeNatResult(outcome.result), /^NAT type: +open$/m);
  });

  test('nothing comes back: udp-blocked after one STUN timeout', async () => {
    const { outcome, network } = await discoverBehind({ mapping: 'endpoint-independent', filtering: 'endpoint-independent', blocked: true });
    assert.ok('result' in outcome);
    assert.deepEqual([outcome.result.natType, outcome.result.mapping, outcome.result.publicAddress], ['udp-blocked', null, null]);
    assert.equal(outcome.result.timings.verdictMs, TIMEOUT_MS);
    assert.equal(network.openPorts, 0);
  });

  test('a server without OTHER-ADDRESS is a bad-server error', async () => {
    const { outcome } = await discoverBehind({ mapping: 'endpoint-independent', filtering: 'endpoint-independent', noOtherAddress: true });
    assert.ok('error' in outcome && outcome.error instanceof NatDiscoveryError && outcome.error.code === 'bad-server');
  });

  test('binding lifetime: probes every step up to the max wait, bounded by it plus one timeout', async () => {
    const { outcome, network } = await discoverBehind({ mapping: 'endpoint-independent', filtering: 'address-and-port-dependent', lifetimeS: 4.5 }, { maxWaitS: 8, stepS: 1 });
    assert.ok('result' in outcome, String('error' in outcome && outcome.error));
    assert.deepEqual([outcome.result.bindingLifetimeS, outcome.result.bindingExpiredS], [4, 5]);
    assert.ok((outcome.result.timings.bindingLifetimeMs ?? Infinity) <= 8000 + RTT_MS + TIMEOUT_MS);
    assert.equal(network.openPorts, 0);
  });

  test('binding lifetime longer than the max wait: no expiry reported', async () => {
    const { outcome } = await discoverBehind({ mapping: 'endpoint-independent', filtering: 'endpoint-independent' }, { maxWaitS: 3 });
    assert.ok('result' in outcome);
    assert.deepEqual([outcome.result.bindingLifetimeS, outcome.result.bindingExpiredS], [3, undefined]);
  });

  test('a max wait out of range is refused before any packet', async () => {
    const { outcome, network } = await discoverBehind({ mapping: 'none', filtering: 'endpoint-independent' }, { maxWaitS: -1 });
    assert.ok('error' in outcome && outcome.error instanceof NatDiscoveryError && outcome.error.code === 'bad-option');
    assert.equal(network.sent.length, 0);
  });

  test('the daemon\'s lifetime probes stop one step past the first expiry, not at the longest idle time', async () => {
    const clock = new FakeClock(1000);
    const network = new FakeNatNetwork({ mapping: 'endpoint-independent', filtering: 'address-and-port-dependent', lifetimeS: 4.5 }, clock);
    let outcome: { result: Awaited<ReturnType<typeof measureNatBindingLifetime>> } | { error: unknown } | undefined;
    measureNatBindingLifetime({ server: SERVER, clock, network, idleTimesS: BINDING_LIFETIME_PROBES_S }).then((result) => (outcome = { result }), (error: unknown) => (outcome = { error }));
    for (let turns = 0; !outcome; turns++) {
      assert.ok(turns < 100_000, 'measurement never settled');
      await new Promise((r) => setImmediate(r));
      if (!outcome) clock.advance(5);
    }
    assert.ok('result' in outcome, String('error' in outcome && outcome.error));
    assert.equal(outcome.result?.bindingLifetimeS, 4);
    assert.equal(outcome.result?.bindingExpiredS, 5);
    // The 6 s probe was already asking when the 5 s one was found gone: it ends one timeout later.
    assert.ok((outcome.result?.durationMs ?? Infinity) <= 6000 + RTT_MS + TIMEOUT_MS + 50, `took ${outcome.result?.durationMs} ms, not ${Math.max(...BINDING_LIFETIME_PROBES_S)} s`);
    assert.equal(network.openPorts, 0, 'every probe port closed, the called-off ones too');
  });

  test('idle times out of range are refused before any packet', async () => {
    const clock = new FakeClock(0);
    const network = new FakeNatNetwork({ mapping: 'none', filtering: 'endpoint-independent' }, clock);
    for (const idleTimesS of [[], [0], [-1], [4000], Array.from({ length: 33 }, (_, i) => i + 1)]) {
      await assert.rejects(measureNatBindingLifetime({ server: SERVER, clock, network, idleTimesS }), (e: unknown) => e instanceof NatDiscoveryError && e.code === 'bad-option');
    }
    assert.equal(network.sent.length, 0);
  });
});
