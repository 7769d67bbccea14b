// The PCP/NAT-PMP mapper against a scripted transport on a fake clock: renewal at half the granted
// lifetime with the same nonce and port, re-mapping when the epoch says the server lost state,
// losing a mapping, and deletion with lifetime 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../../src/util/index.js';
import {
  PortControlError, PortControlMapper, type PortControlMapRequest, type PortControlMapResult, type PortControlTransport,
} from '../../../../src/nat/pcp/index.js';

class FakeServer implements PortControlTransport {
  readonly requests: PortControlMapRequest[] = [];
  epochAtStartMs = 0;
  grantS: number | undefined;
  failNext: Error[] = [];
  closed = false;
  private nextPort = 40000;
  private readonly ports = new Map<string, number>();

  constructor(private readonly clock: FakeClock) {}

  map(req: PortControlMapRequest): Promise<PortControlMapResult> {
    this.requests.push(req);
    const fail = this.failNext.shift();
    if (fail) return Promise.reject(fail);
    const k = `${req.protocol}/${req.internalPort}`;
    if (req.lifetimeS === 0) this.ports.delete(k);
    else if (!this.ports.has(k)) this.ports.set(k, this.nextPort++);
    return Promise.resolve({
      via: 'pcp', protocol: req.protocol, internalPort: req.internalPort, externalPort: this.ports.get(k) ?? 0, externalAddress: '203.0.113.1',
      lifetimeS: req.lifetimeS === 0 ? 0 : (this.grantS ?? req.lifetimeS), epochS: Math.floor((this.clock.now() - this.epochAtStartMs) / 1000),
      receivedAtMs: this.clock.now(), nonce: req.nonce ?? Uint8Array.of(...Buffer.alloc(12, this.requests.length)),
    });
  }

  /** The server reboots: epoch from 0, mappings gone. */
  reboot(): void {
    this.epochAtStartMs = this.clock.now();
    this.ports.clear();
  }

  close(): void {
    this.closed = true;
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

async function step(clock: FakeClock, totalMs: number, byMs = 250): Promise<void> {
  for (let t = 0; t < totalMs; t += byMs) {
    clock.advance(byMs);
    await settle();
  }
}

function setup(lifetimeS = 120) {
  const clock = new FakeClock(1_000_000);
  const server = new FakeServer(clock);
  server.epochAtStartMs = 0;
  const mapper = new PortControlMapper({ client: server, clock, lifetimeS, onClose: () => server.close() });
  return { clock, server, mapper };
}

test('map() asks for the lifetime, suggesting the internal port (or the hint), and returns the mapping', async () => {
  const { server, mapper } = setup();
  const m = await mapper.map(5060, 'udp');
  assert.deepEqual(m, { via: 'pcp', protocol: 'udp', internalPort: 5060, externalPort: 40000, externalAddress: '203.0.113.1', lifetimeS: 120 });
  assert.equal(server.requests[0]?.suggestedExternalPort, 5060);
  await mapper.map(5062, 'udp', 6000);
  assert.equal(server.requests[1]?.suggestedExternalPort, 6000);
});

test('renews at half the granted lifetime with the same nonce, suggesting the port it was given', async () => {
  const { clock, server, mapper } = setup(120);
  server.grantS = 60; // the server grants less than asked
  await mapper.map(5060, 'udp');
  const renewedAt: number[] = [];
  mapper.on('renewed', () => renewedAt.push(clock.now() - 1_000_000));
  await step(clock, 61_000);
  assert.deepEqual(renewedAt, [30_000, 60_000]);
  const nonces = server.requests.map((r) => r.nonce && Buffer.from(r.nonce).toString('hex'));
  assert.deepEqual(nonces, [undefined, '01'.repeat(12), '01'.repeat(12)], 'renewals carry the nonce of the first answer');
  assert.equal(server.requests[1]?.suggestedExternalPort, 40000);
  assert.equal(server.requests[1]?.lifetimeS, 120);
});

test('an epoch that went back (server reboot) re-creates the other mappings at once', async () => {
  const { clock, server, mapper } = setup(600);
  await mapper.map(5060, 'udp');
  await mapper.map(5062, 'udp');
  await step(clock, 10_000);
  server.reboot();
  let resets = 0;
  mapper.on('serverLostState', () => resets++);
  await mapper.map(5064, 'udp'); // the first answer after the reboot carries epoch 0
  await step(clock, 500);
  assert.equal(resets, 1);
  const renewed = server.requests.slice(3).map((r) => r.internalPort).sort();
  assert.deepEqual(renewed, [5060, 5062], 'both older mappings asked for again, long before their half lifetime');
});

test('failed renewals are retried at half the time left until the lifetime runs out, then the mapping is lost', async () => {
  const { clock, server, mapper } = setup(40);
  await mapper.map(5060, 'udp');
  const events: string[] = [];
  mapper.on('renewalFailed', () => events.push(`failed@${clock.now() - 1_000_000}`));
  mapper.on('lost', () => events.push(`lost@${clock.now() - 1_000_000}`));
  server.failNext = Array.from({ length: 10 }, () => new PortControlError('timeout', 'no answer'));
  await step(clock, 45_000, 125);
  assert.deepEqual(events, ['failed@20000', 'failed@30000', 'failed@35000', 'failed@37500', 'lost@38750']);
  assert.deepEqual(mapper.mappings(), []);
});

test('unmap and close() delete with lifetime 0 and the mapping\'s nonce; close() closes an owned client', async () => {
  const { clock, server, mapper } = setup();
  const a = await mapper.map(5060, 'udp');
  await mapper.map(5062, 'tcp');
  await mapper.unmap(a);
  assert.deepEqual(server.requests[2], { protocol: 'udp', internalPort: 5060, lifetimeS: 0, nonce: Uint8Array.of(...Buffer.alloc(12, 1)) });
  await mapper.close();
  assert.deepEqual(server.requests.slice(3).map((r) => [r.protocol, r.internalPort, r.lifetimeS]), [['tcp', 5062, 0]]);
  assert.equal(server.closed, true);
  assert.equal(clock.pending, 0);
  await assert.rejects(mapper.map(5060, 'udp'), (err: unknown) => err instanceof PortControlError && err.code === 'closed');
});
