import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../src/util/index.js';
import { ROUTER_BUDGET_MS } from '../../../src/nat/nat-port-manager.js';
import {
  LocalPortManager, NatPortManager, StaticProvider, isPrivateAddress, type MappingProvider, type MappingRequest, type NatStrategy, type PortMapping,
} from '../../../src/nat/index.js';

const SIP: MappingRequest = { kind: 'sip', local: { address: '0.0.0.0', port: 5060 }, scope: 'profile' };
const RTP: MappingRequest = { kind: 'rtp', local: { address: '192.168.1.20', port: 16384 }, scope: 'session' };

function fake(name: PortMapping['via'], answer: PortMapping | undefined | 'throw', log: string[]): MappingProvider {
  return {
    name,
    map: async (req) => {
      log.push(`${name}:${req.kind}`);
      if (answer === 'throw') throw new Error(`${name} broke`);
      return answer;
    },
    release: async (kind) => void log.push(`release ${name}:${kind}`),
    close: async () => void log.push(`close ${name}`),
  };
}

test('private and public addresses are told apart (RFC 1918, CGN, loopback, link-local, ULA)', () => {
  for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.77.2', '100.64.0.1', '127.0.0.1', '169.254.1.1', 'fd00::2', 'fe80::1', '::1']) assert.equal(isPrivateAddress(a), true, a);
  for (const a of ['203.0.113.7', '172.32.0.1', '100.128.0.1', '2001:db8::1', '8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
});

test('static forwards map SIP to its forwarded port and RTP ports into the forwarded range', async () => {
  const p = new StaticProvider(() => ({ publicAddress: '203.0.113.5', sipPort: 5070, rtpPortMin: 40000, localRtpPortMin: 16384 }));
  assert.deepEqual(await p.map(SIP), { address: '203.0.113.5', port: 5070, via: 'static' });
  assert.deepEqual(await p.map({ ...RTP, local: { address: '192.168.1.20', port: 16390 } }), { address: '203.0.113.5', port: 40006, via: 'static' });
  const unset = new StaticProvider(() => ({ publicAddress: '', sipPort: 0, rtpPortMin: 0, localRtpPortMin: 16384 }));
  assert.equal(await unset.map(SIP), undefined, 'no public address configured: no answer');
});

test('each strategy asks its providers in order; a provider that fails or cannot answer falls through to the next', async () => {
  const log: string[] = [];
  const stun: PortMapping = { address: '203.0.113.9', port: 61000, via: 'stun' };
  let strategy: NatStrategy = 'upnp';
  const pm = new NatPortManager(() => strategy, { upnp: fake('upnp', 'throw', log), pcp: fake('pcp', undefined, log), stun: fake('stun', stun, log) }, new LocalPortManager(() => '192.168.1.20'));
  assert.deepEqual(await pm.getMapping(SIP), { address: '192.168.1.20', port: 5060, via: 'local' }, 'upnp strategy: neither router protocol answered');
  assert.deepEqual(log, ['upnp:sip', 'pcp:sip']);
  assert.match(pm.lastDecision.reason, /no provider answered/);
  strategy = 'stun';
  await pm.reevaluate();
  assert.deepEqual(await pm.getMapping(SIP), stun);
  assert.equal(pm.lastDecision.via, 'stun');
  strategy = 'none';
  await pm.reevaluate();
  log.length = 0;
  assert.equal((await pm.getMapping(SIP)).via, 'local');
  assert.deepEqual(log, [], 'strategy none asks nobody');
});

test('auto: a public address needs nothing; a private one tries router mapping then STUN; symmetric NAT is reported', async () => {
  const log: string[] = [];
  const stun: PortMapping = { address: '203.0.113.9', port: 61000, via: 'stun' };
  let local = '203.0.113.50';
  let natType: string | undefined;
  const pm = new NatPortManager(() => 'auto', { upnp: fake('upnp', undefined, log), stun: fake('stun', stun, log) }, new LocalPortManager(() => local), () => natType);
  assert.equal((await pm.getMapping(SIP)).address, '203.0.113.50');
  assert.match(pm.lastDecision.reason, /public address/);
  assert.deepEqual(log, []);
  local = '192.168.1.20';
  await pm.reevaluate();
  assert.deepEqual(await pm.getMapping(SIP), stun);
  assert.deepEqual(log, ['upnp:sip', 'stun:sip']);
  natType = 'symmetric';
  await pm.reevaluate();
  await pm.getMapping(SIP);
  assert.match(pm.lastDecision.reason, /symmetric NAT; a relay/);
});

test('a socket keeps its mapping until released; release and close reach the provider that gave it', async () => {
  const log: string[] = [];
  const upnp: PortMapping = { address: '203.0.113.9', port: 16384, via: 'upnp' };
  const pm = new NatPortManager(() => 'upnp', { upnp: fake('upnp', upnp, log) }, new LocalPortManager(() => '192.168.1.20'));
  await pm.getMapping(RTP);
  await pm.getMapping(RTP);
  assert.deepEqual(log, ['upnp:rtp'], 'asked once');
  assert.equal(pm.mappings.length, 1);
  await pm.releaseMapping('rtp', RTP.local);
  assert.deepEqual(log, ['upnp:rtp', 'release upnp:rtp']);
  assert.equal(pm.mappings.length, 0);
  await pm.getMapping(RTP);
  await pm.close();
  assert.deepEqual(log.slice(-2), ['release upnp:rtp', 'close upnp']);
});

test('auto says what it chose and why: a router mapping, STUN for a cone, a relay needed for symmetric, UDP blocked, no NAT', async () => {
  const log: string[] = [];
  const stun: PortMapping = { address: '203.0.113.9', port: 61000, via: 'stun' };
  const upnp: PortMapping = { address: '203.0.113.9', port: 5060, via: 'upnp' };
  let natType: string | undefined = 'port-restricted-cone';
  let router: PortMapping | undefined;
  const pm = new NatPortManager(() => 'auto', { upnp: { ...fake('upnp', undefined, log), map: async () => router }, stun: fake('stun', stun, log) }, new LocalPortManager(() => '192.168.1.20'), () => natType);
  assert.deepEqual(await pm.getMapping(SIP), stun);
  assert.match(pm.lastDecision.reason, /behind a port-restricted-cone NAT: no UPnP\/PCP router answered; STUN, right for a cone NAT/);
  router = upnp;
  await pm.reevaluate();
  assert.deepEqual(await pm.getMapping(SIP), upnp);
  assert.match(pm.lastDecision.reason, /the router maps ports on request \(UPnP IGD\)/);
  router = undefined;
  natType = 'udp-blocked';
  await pm.reevaluate();
  log.length = 0;
  assert.equal((await pm.getMapping(SIP)).via, 'local');
  assert.deepEqual(log, [], 'STUN is not asked when UDP is blocked');
  assert.match(pm.lastDecision.reason, /UDP is blocked.*TCP\/TLS and a TURN relay/);
  natType = 'open';
  await pm.reevaluate();
  assert.equal((await pm.getMapping(SIP)).via, 'local');
  assert.match(pm.lastDecision.reason, /no NAT \(open\)/);
});

test('a new verdict forgets only the mappings whose chain it changes, and brings the reason up to date', async () => {
  const log: string[] = [];
  const stun: PortMapping = { address: '203.0.113.9', port: 61000, via: 'stun' };
  let natType: string | undefined;
  const pm = new NatPortManager(() => 'auto', { stun: fake('stun', stun, log) }, new LocalPortManager(() => '192.168.1.20'), () => natType);
  await pm.getMapping(SIP);
  assert.match(pm.lastDecision.reason, /not measured yet/);
  natType = 'full-cone';
  assert.equal(await pm.behaviourChanged(), false, 'same providers: the mapping stands');
  assert.match(pm.lastDecision.reason, /behind a full-cone NAT/);
  assert.equal(pm.mappings.length, 1);
  natType = 'udp-blocked';
  assert.equal(await pm.behaviourChanged(), true, 'STUN is out of the chain: ask again');
  assert.equal(pm.mappings.length, 0);
  assert.deepEqual(log, ['stun:sip', 'release stun:sip']);
});

test('auto gives UPnP then PCP the router budget together: a silent router costs the budget, not SSDP plus PCP retransmissions', async () => {
  const clock = new FakeClock(0);
  const log: string[] = [];
  const stun: PortMapping = { address: '203.0.113.9', port: 61000, via: 'stun' };
  // UPnP gives up after SSDP's 2 s; PCP never answers.
  const upnp: MappingProvider = { ...fake('upnp', undefined, log), map: () => new Promise((resolve) => (log.push('upnp:asked'), clock.setTimer(2000, () => resolve(undefined)))) };
  const pcp: MappingProvider = { ...fake('pcp', undefined, log), map: () => new Promise(() => void log.push('pcp:asked')) };
  const pm = new NatPortManager(() => 'auto', { upnp, pcp, stun: fake('stun', stun, log) }, new LocalPortManager(() => '192.168.1.20'), () => 'full-cone', clock, ROUTER_BUDGET_MS);
  let got: PortMapping | undefined;
  void pm.getMapping(SIP).then((m) => (got = m));
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  await settle();
  assert.deepEqual(log, ['upnp:asked'], 'one router protocol at a time');
  clock.advance(2000);
  await settle();
  assert.deepEqual(log, ['upnp:asked', 'pcp:asked']);
  clock.advance(ROUTER_BUDGET_MS - 2001);
  await settle();
  assert.equal(got, undefined, 'PCP still has time');
  clock.advance(1);
  await settle();
  assert.deepEqual(got, stun);
  assert.equal(clock.now(), ROUTER_BUDGET_MS, 'STUN asked once the budget ran out');
});

test('a router mapping that comes after the budget is given back', async () => {
  const clock = new FakeClock(0);
  const log: string[] = [];
  const stun: PortMapping = { address: '203.0.113.9', port: 61000, via: 'stun' };
  let late: (m: PortMapping) => void = () => {};
  const pcp: MappingProvider = { ...fake('pcp', undefined, log), map: () => new Promise((resolve) => (late = resolve)) };
  const pm = new NatPortManager(() => 'auto', { pcp, stun: fake('stun', stun, log) }, new LocalPortManager(() => '192.168.1.20'), () => undefined, clock);
  const mapped = pm.getMapping(SIP);
  await new Promise((r) => setImmediate(r));
  clock.advance(ROUTER_BUDGET_MS);
  assert.deepEqual(await mapped, stun);
  late({ address: '203.0.113.9', port: 5060, via: 'pcp' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['stun:sip', 'release pcp:sip']);
});
