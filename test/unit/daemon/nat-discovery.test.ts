// The daemon's discovery glue on loopback: it runs only when the settings call for it, reports a
// server that never answers (udp-blocked after one STUN timeout) instead of failing, keeps the
// 25 s keep-alive until a lifetime is measured, and a setting wins over the derived interval.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { DaemonNatDiscovery } from '../../../src/daemon/nat-discovery.js';
import { createLogger } from '../../../src/daemon/logger.js';
import { LocalPortManager, NatPortManager, type NatStrategy } from '../../../src/nat/index.js';
import { Registry } from '../../../src/registry/index.js';
import { SystemClock } from '../../../src/util/index.js';
import { tempDir } from '../../helpers/tmp.js';

/** A loopback UDP port that reads and never answers, closed at the end. */
async function silentServer(): Promise<{ port: number; close: () => void }> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return { port: s.address().port, close: () => s.close() };
}

function setup() {
  const registry = Registry.open(tempDir('dpa-nat-discovery-'));
  const clock = new SystemClock();
  const ports = new NatPortManager(() => registry.getString('nat.strategy') as NatStrategy, {}, new LocalPortManager(() => '127.0.0.1'));
  const discovery = new DaemonNatDiscovery({
    registry, clock, log: createLogger('silent'), ports, rtc: () => undefined, bindAddress: () => '127.0.0.1', software: 'test',
  });
  return { registry, discovery };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('off without a STUN server, and off for a strategy that does not use it, each with the reason', () => {
  const { registry, discovery } = setup();
  discovery.run('start');
  assert.deepEqual([discovery.monitor.status.state, discovery.monitor.status.reason], ['off', 'no STUN server (nat.stunServer)']);
  registry.set('nat.stunServer', '127.0.0.1:3478');
  registry.set('nat.strategy', 'none');
  discovery.run('settings');
  assert.deepEqual([discovery.monitor.status.state, discovery.monitor.status.reason], ['off', 'nat.strategy none does not use it']);
  assert.deepEqual([discovery.keepalive().intervalS, discovery.keepalive().source], [25, 'fallback']);
  registry.close();
});

test('a server that never answers is reported as udp-blocked within about one STUN timeout; the keep-alive stays at 25 s, a setting wins', { timeout: 10_000 }, async () => {
  const { registry, discovery } = setup();
  const server = await silentServer();
  try {
    registry.set('nat.stunServer', `127.0.0.1:${server.port}`);
    const startedMs = Date.now();
    discovery.run('start');
    assert.equal(discovery.monitor.status.state, 'discovering');
    await until('a verdict', () => discovery.monitor.status.state !== 'discovering', 5000);
    const s = discovery.monitor.status;
    assert.deepEqual([s.state, s.natType, s.trigger, s.bindingLifetimeS], ['done', 'udp-blocked', 'start', null]);
    assert.ok(Date.now() - startedMs < 3000, `verdict in ${Date.now() - startedMs} ms`);
    assert.deepEqual([discovery.keepalive().intervalS, discovery.keepalive().source], [25, 'fallback']);
    registry.set('nat.keepaliveIntervalS', 40);
    assert.deepEqual([discovery.keepalive().intervalS, discovery.keepalive().source], [40, 'setting']);
  } finally {
    server.close();
    registry.close();
  }
});

test('a STUN server discovery cannot use (IPv6: discovery is IPv4) is a failed run with the reason, not an exception', async () => {
  const { registry, discovery } = setup();
  try {
    registry.set('nat.stunServer', '[::1]:3478');
    discovery.run('start');
    await until('the failure', () => discovery.monitor.status.state === 'failed', 2000);
    assert.match(discovery.monitor.status.reason ?? '', /not a STUN server host:port/);
    assert.equal(discovery.keepalive().source, 'fallback');
  } finally {
    registry.close();
  }
});

test('after close (shutdown) a run still going is ignored and no new run starts', { timeout: 10_000 }, async () => {
  const { registry, discovery } = setup();
  const server = await silentServer();
  try {
    registry.set('nat.stunServer', `127.0.0.1:${server.port}`);
    discovery.run('start');
    assert.equal(discovery.monitor.status.state, 'discovering');
    discovery.close();
    assert.deepEqual([discovery.monitor.status.state, discovery.monitor.status.reason], ['off', 'the daemon is stopping']);
    discovery.run('address-change');
    await new Promise((r) => setTimeout(r, 2500)); // past the STUN timeout of the abandoned run
    assert.equal(discovery.monitor.status.state, 'off');
  } finally {
    server.close();
    registry.close();
  }
});
