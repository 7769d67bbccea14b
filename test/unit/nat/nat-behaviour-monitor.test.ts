// The daemon's discovery runs: class first, then the binding lifetime; failures are a state;
// a run replaced by a newer one is ignored; illegal transitions cannot happen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../src/util/index.js';
import type { BindingLifetimeMeasurement, NatDiscoveryResult } from '../../../src/nat/nat-behaviour-discovery.js';
import { NatBehaviourMonitor, type NatBehaviourStatus } from '../../../src/nat/nat-behaviour-monitor.js';
import { NatDiscoveryError } from '../../../src/nat/nat-discovery-error.js';
import type { NatType } from '../../../src/nat/nat-behaviour-decision.js';

const SERVER = { address: '203.0.113.10', port: 3478 };

function result(natType: NatType): NatDiscoveryResult {
  const blocked = natType === 'udp-blocked';
  return {
    natType, mapping: blocked ? null : 'endpoint-independent', filtering: blocked ? null : 'address-and-port-dependent',
    publicAddress: blocked ? null : '198.51.100.7', mappedAddress: blocked ? null : { address: '198.51.100.7', port: 40000 },
    localAddress: { address: '192.168.1.20', port: 50000 }, server: SERVER, otherAddress: null, timings: { verdictMs: 150, totalMs: 150 },
  };
}

/** Deferred answers the test settles by hand, with the clock moved first. */
function harness() {
  const clock = new FakeClock(0);
  const seen: NatBehaviourStatus[] = [];
  const discoveries: Array<{ resolve: (r: NatDiscoveryResult) => void; reject: (e: unknown) => void; server: string; bind: string | undefined }> = [];
  const lifetimes: Array<{ resolve: (r: BindingLifetimeMeasurement | undefined) => void; reject: (e: unknown) => void }> = [];
  const monitor = new NatBehaviourMonitor({
    clock,
    wallNow: () => new Date('2026-11-25T17:00:00Z'),
    discover: (server, bind) => new Promise((resolve, reject) => discoveries.push({ resolve, reject, server, bind })),
    measureLifetime: () => new Promise((resolve, reject) => lifetimes.push({ resolve, reject })),
    onChange: (s) => seen.push(s),
  });
  return { clock, seen, discoveries, lifetimes, monitor };
}

const tick = () => new Promise((r) => setImmediate(r));

test('class first (state measuring, with when and how long), then the binding lifetime (done)', async () => {
  const h = harness();
  const run = h.monitor.start({ server: '203.0.113.10:3478', bindAddress: '192.168.1.20', trigger: 'start' });
  assert.equal(h.monitor.status.state, 'discovering');
  assert.deepEqual([h.discoveries[0]?.server, h.discoveries[0]?.bind], ['203.0.113.10:3478', '192.168.1.20']);
  h.clock.advance(1500);
  h.discoveries[0]?.resolve(result('port-restricted-cone'));
  await tick();
  const verdict = h.monitor.status;
  assert.deepEqual([verdict.state, verdict.natType, verdict.verdictMs, verdict.measuredAt, verdict.bindingLifetimeS], ['measuring', 'port-restricted-cone', 1500, '2026-11-25T17:00:00.000Z', null]);
  h.clock.advance(7000);
  h.lifetimes[0]?.resolve({ bindingLifetimeS: 4, bindingExpiredS: 5, durationMs: 7000 });
  await run;
  assert.deepEqual(h.seen.map((s) => s.state), ['discovering', 'measuring', 'done']);
  const done = h.monitor.status;
  assert.deepEqual([done.natType, done.bindingLifetimeS, done.bindingExpiredS, done.bindingLifetimeMs, done.reason], ['port-restricted-cone', 4, 5, 7000, null]);
});

test('no server: off with the reason; a discovery error: failed with its message, never thrown', async () => {
  const h = harness();
  await h.monitor.start({ server: '  ', trigger: 'start' });
  assert.deepEqual([h.monitor.status.state, h.monitor.status.reason], ['off', 'no STUN server (nat.stunServer)']);
  const run = h.monitor.start({ server: 'stun.invalid:3478', trigger: 'settings' });
  h.discoveries[0]?.reject(new NatDiscoveryError('resolve-failed', 'cannot resolve stun.invalid'));
  await run;
  assert.deepEqual([h.monitor.status.state, h.monitor.status.reason, h.monitor.status.natType], ['failed', 'cannot resolve stun.invalid', null]);
});

test('udp-blocked is a verdict with nothing to measure; a lifetime that fails keeps the class and says why', async () => {
  const h = harness();
  const blocked = h.monitor.start({ server: '203.0.113.10:3478', trigger: 'start' });
  h.discoveries[0]?.resolve(result('udp-blocked'));
  await blocked;
  assert.deepEqual([h.monitor.status.state, h.monitor.status.natType, h.lifetimes.length], ['done', 'udp-blocked', 0]);
  const again = h.monitor.start({ server: '203.0.113.10:3478', trigger: 'address-change' });
  h.discoveries[1]?.resolve(result('full-cone'));
  await tick();
  h.lifetimes[0]?.reject(new NatDiscoveryError('bad-server', 'ignored RESPONSE-PORT'));
  await again;
  assert.deepEqual([h.monitor.status.state, h.monitor.status.natType, h.monitor.status.bindingLifetimeS, h.monitor.status.reason], ['done', 'full-cone', null, 'binding lifetime: ignored RESPONSE-PORT']);
});

test('a run replaced by a newer one (new address) or stopped is ignored when it ends', async () => {
  const h = harness();
  const first = h.monitor.start({ server: '203.0.113.10:3478', bindAddress: '192.168.1.20', trigger: 'start' });
  const second = h.monitor.start({ server: '203.0.113.10:3478', bindAddress: '10.0.0.5', trigger: 'address-change' });
  h.discoveries[0]?.resolve(result('symmetric'));
  await first;
  assert.equal(h.monitor.status.state, 'discovering', 'the old verdict is not taken');
  h.discoveries[1]?.resolve(result('full-cone'));
  await tick();
  assert.deepEqual([h.monitor.status.natType, h.monitor.status.trigger], ['full-cone', 'address-change']);
  h.monitor.stop('nat.strategy none does not use it');
  h.lifetimes[0]?.resolve({ bindingLifetimeS: 30, durationMs: 40_000 });
  await second;
  assert.deepEqual([h.monitor.status.state, h.monitor.status.bindingLifetimeS], ['off', null]);
});

test('a listener that throws is reported and does not stop the run', async () => {
  const errors: unknown[] = [];
  const monitor = new NatBehaviourMonitor({
    clock: new FakeClock(0),
    discover: () => Promise.resolve(result('udp-blocked')),
    measureLifetime: () => Promise.resolve(undefined),
    onChange: () => {
      throw new Error('listener broke');
    },
    onListenerError: (err) => errors.push(err),
  });
  await monitor.start({ server: '203.0.113.10:3478', trigger: 'start' });
  assert.equal(monitor.status.state, 'done');
  assert.equal(errors.length, 2);
});

test('measuring again (a new address), the last binding lifetime stays until the new one is in', async () => {
  const h = harness();
  const first = h.monitor.start({ server: '203.0.113.10:3478', trigger: 'start' });
  h.discoveries[0]?.resolve(result('port-restricted-cone'));
  await tick();
  h.lifetimes[0]?.resolve({ bindingLifetimeS: 30, bindingExpiredS: 40, durationMs: 41_000 });
  await first;
  const again = h.monitor.start({ server: '203.0.113.10:3478', trigger: 'address-change' });
  assert.equal(h.monitor.status.bindingLifetimeS, 30, 'kept while discovering');
  h.discoveries[1]?.resolve(result('full-cone'));
  await tick();
  assert.deepEqual([h.monitor.status.state, h.monitor.status.natType, h.monitor.status.bindingLifetimeS], ['measuring', 'full-cone', 30]);
  h.lifetimes[1]?.resolve({ bindingLifetimeS: 60, durationMs: 250_000 });
  await again;
  assert.deepEqual([h.monitor.status.bindingLifetimeS, h.monitor.status.bindingExpiredS], [60, null]);
});
