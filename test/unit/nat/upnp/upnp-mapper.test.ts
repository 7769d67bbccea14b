// The UPnP mapper against an in-memory IGD on a fake clock: renewal at half the lease, the 725 and
// 718 fallbacks, losing a mapping, reclaiming our stale mappings, and close() deleting ours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../../src/util/index.js';
import {
  IgdError, UPNP_ERROR, UpnpError, UpnpMapper, type AddPortMappingArgs, type IgdControl, type MappingProtocol, type PortMappingEntry,
} from '../../../../src/nat/upnp/index.js';

const ME = '192.168.77.2';

/** An IGD that keeps a table like miniupnpd: one entry per external port and protocol. */
class FakeIgd implements IgdControl {
  readonly table = new Map<string, PortMappingEntry>();
  readonly adds: AddPortMappingArgs[] = [];
  readonly deletes: string[] = [];
  externalIp = '203.0.113.1';
  permanentOnly = false;
  /** Errors to throw from the next addPortMapping calls, in order. */
  failNextAdds: Error[] = [];

  getExternalIpAddress(): Promise<string> {
    return Promise.resolve(this.externalIp);
  }

  addPortMapping(a: AddPortMappingArgs): Promise<void> {
    this.adds.push(a);
    const fail = this.failNextAdds.shift();
    if (fail) return Promise.reject(fail);
    if (this.permanentOnly && a.leaseDurationS !== 0) return Promise.reject(new UpnpError(UPNP_ERROR.OnlyPermanentLeasesSupported, 'OnlyPermanentLeasesSupported', 'AddPortMapping'));
    const existing = this.table.get(`${a.protocol}/${a.externalPort}`);
    if (existing && existing.internalClient !== a.internalClient) return Promise.reject(new UpnpError(718, 'ConflictInMappingEntry', 'AddPortMapping'));
    this.table.set(`${a.protocol}/${a.externalPort}`, {
      remoteHost: '', externalPort: a.externalPort, protocol: a.protocol, internalPort: a.internalPort, internalClient: a.internalClient,
      enabled: true, description: a.description, leaseDurationS: a.leaseDurationS,
    });
    return Promise.resolve();
  }

  deletePortMapping(externalPort: number, protocol: MappingProtocol): Promise<void> {
    this.deletes.push(`${protocol}/${externalPort}`);
    if (!this.table.delete(`${protocol}/${externalPort}`)) return Promise.reject(new UpnpError(714, 'NoSuchEntryInArray', 'DeletePortMapping'));
    return Promise.resolve();
  }

  getSpecificPortMappingEntry(externalPort: number, protocol: MappingProtocol): Promise<PortMappingEntry> {
    const e = this.table.get(`${protocol}/${externalPort}`);
    return e ? Promise.resolve(e) : Promise.reject(new UpnpError(714, 'NoSuchEntryInArray', 'GetSpecificPortMappingEntry'));
  }

  getGenericPortMappingEntry(index: number): Promise<PortMappingEntry> {
    const e = [...this.table.values()][index];
    return e ? Promise.resolve(e) : Promise.reject(new UpnpError(713, 'SpecifiedArrayIndexInvalid', 'GetGenericPortMappingEntry'));
  }

  /** Someone else on the LAN holds this port. */
  occupy(externalPort: number, protocol: MappingProtocol = 'udp'): void {
    this.table.set(`${protocol}/${externalPort}`, {
      remoteHost: '', externalPort, protocol, internalPort: externalPort, internalClient: '192.168.77.50', enabled: true, description: 'game console', leaseDurationS: 0,
    });
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(o: { leaseS?: number; maxPortAttempts?: number } = {}) {
  const igd = new FakeIgd();
  const clock = new FakeClock();
  const mapper = new UpnpMapper({ igd, internalClient: ME, clock, leaseS: o.leaseS ?? 600, ...(o.maxPortAttempts ? { maxPortAttempts: o.maxPortAttempts } : {}) });
  return { igd, clock, mapper };
}

test('map() asks for the internal port with our address, lease and description; the external address comes back', async () => {
  const { igd, mapper } = setup();
  const m = await mapper.map(5060, 'udp');
  assert.deepEqual(m, { protocol: 'udp', internalPort: 5060, externalPort: 5060, externalAddress: '203.0.113.1', leaseS: 600 });
  assert.deepEqual(igd.adds[0], { externalPort: 5060, protocol: 'udp', internalPort: 5060, internalClient: ME, description: 'deskphone-agent udp/5060', leaseDurationS: 600 });
  assert.equal((await mapper.map(5060, 'udp')).externalPort, 5060, 'mapping the same port again returns the mapping');
  assert.equal(igd.adds.length, 1);
});

test('renews at half the lease, again and again, and reports each renewal', async () => {
  const { igd, clock, mapper } = setup({ leaseS: 600 });
  await mapper.map(5060, 'udp', 40000);
  const renewed: number[] = [];
  mapper.on('renewed', () => renewed.push(clock.now()));
  clock.advance(299_999);
  await settle();
  assert.equal(igd.adds.length, 1);
  clock.advance(1);
  await settle();
  assert.equal(igd.adds.length, 2);
  assert.equal(igd.adds[1]?.externalPort, 40000, 'the renewal keeps the external port');
  clock.advance(300_000);
  await settle();
  assert.deepEqual(renewed, [300_000, 600_000]);
});

test('a renewal that sees a new external address reports it', async () => {
  const { igd, clock, mapper } = setup({ leaseS: 60 });
  await mapper.map(5060, 'udp');
  igd.externalIp = '198.51.100.4';
  const seen: string[] = [];
  mapper.on('renewed', (m) => seen.push(m.externalAddress));
  clock.advance(30_000);
  await settle();
  assert.deepEqual(seen, ['198.51.100.4']);
  assert.equal(mapper.mappings()[0]?.externalAddress, '198.51.100.4');
});

test('725 OnlyPermanentLeasesSupported: retried with lease 0, never renewed, later maps go permanent at once', async () => {
  const { igd, clock, mapper } = setup();
  igd.permanentOnly = true;
  assert.equal((await mapper.map(5060, 'udp')).leaseS, 0);
  assert.deepEqual(igd.adds.map((a) => a.leaseDurationS), [600, 0]);
  clock.advance(10_000_000);
  await settle();
  assert.equal(igd.adds.length, 2, 'no renewal for a permanent mapping');
  assert.equal(clock.pending, 0);
  await mapper.map(5062, 'udp');
  assert.deepEqual(igd.adds.map((a) => a.leaseDurationS), [600, 0, 0]);
});

test('718 ConflictInMappingEntry: the next external ports are tried', async () => {
  const { igd, mapper } = setup();
  igd.occupy(5060);
  igd.occupy(5061);
  const m = await mapper.map(5060, 'udp');
  assert.equal(m.externalPort, 5062);
  assert.equal(m.internalPort, 5060);
  assert.deepEqual(igd.adds.map((a) => a.externalPort), [5060, 5061, 5062]);
});

test('718 on every try: IgdError no-free-port after maxPortAttempts, no more', async () => {
  const { igd, mapper } = setup({ maxPortAttempts: 3 });
  for (const p of [5060, 5061, 5062, 5063]) igd.occupy(p);
  await assert.rejects(mapper.map(5060, 'udp'), (err: unknown) => err instanceof IgdError && err.code === 'no-free-port');
  assert.equal(igd.adds.length, 3);
});

test('the external port wraps past 65535 into 1024 and up', async () => {
  const { igd, mapper } = setup();
  igd.occupy(65535);
  assert.equal((await mapper.map(5060, 'udp', 65535)).externalPort, 1024);
});

test('other faults fail map() as they are (606 not authorized)', async () => {
  const { igd, mapper } = setup();
  igd.failNextAdds = [new UpnpError(606, 'Action not authorized', 'AddPortMapping')];
  await assert.rejects(mapper.map(80, 'tcp'), (err: unknown) => err instanceof UpnpError && err.code === 606);
  assert.equal(igd.adds.length, 1);
});

test('a failed renewal is retried at half the time left; when the lease runs out the mapping is lost', async () => {
  const { igd, clock, mapper } = setup({ leaseS: 40 });
  await mapper.map(5060, 'udp');
  const events: string[] = [];
  mapper.on('renewalFailed', () => events.push(`failed@${clock.now()}`));
  mapper.on('lost', () => events.push(`lost@${clock.now()}`));
  igd.failNextAdds = Array.from({ length: 10 }, () => new IgdError('timeout', 'no answer'));
  // Small steps, so each renewal's answer is handled at the time its timer fired.
  for (let t = 0; t < 45_000; t += 125) {
    clock.advance(125);
    await settle();
  }
  assert.deepEqual(events, ['failed@20000', 'failed@30000', 'failed@35000', 'failed@37500', 'lost@38750']);
  assert.deepEqual(mapper.mappings(), []);
});

test('a renewal answered with 718 (the port went to someone else) loses the mapping at once', async () => {
  const { igd, clock, mapper } = setup({ leaseS: 60 });
  await mapper.map(5060, 'udp');
  let lost = 0;
  mapper.on('lost', () => lost++);
  igd.failNextAdds = [new UpnpError(718, 'ConflictInMappingEntry', 'AddPortMapping')];
  clock.advance(30_000);
  await settle();
  assert.equal(lost, 1);
  assert.equal(clock.pending, 0);
});

test('unmap deletes the mapping and stops its renewals', async () => {
  const { igd, clock, mapper } = setup();
  const m = await mapper.map(5060, 'udp');
  await mapper.unmap(m);
  assert.deepEqual(igd.deletes, ['udp/5060']);
  assert.equal(clock.pending, 0);
  await mapper.unmap(m);
  assert.deepEqual(igd.deletes, ['udp/5060'], 'a second unmap does nothing');
});

test('close() deletes every mapping it made (714 from the IGD counts as gone) and refuses new ones', async () => {
  const { igd, clock, mapper } = setup();
  await mapper.map(5060, 'udp');
  await mapper.map(5062, 'tcp');
  await mapper.map(10000, 'udp');
  igd.table.delete('udp/10000'); // the IGD forgot it already
  await mapper.close();
  assert.deepEqual(igd.deletes.sort(), ['tcp/5062', 'udp/10000', 'udp/5060']);
  assert.equal(igd.table.size, 0);
  assert.equal(clock.pending, 0);
  await assert.rejects(mapper.map(5060, 'udp'), (err: unknown) => err instanceof IgdError && err.code === 'closed');
});

test('reclaimStale deletes our earlier mappings by description prefix and address, and nobody else\'s', async () => {
  const { igd, mapper } = setup();
  const stale = (externalPort: number, description: string, internalClient = ME): void => {
    igd.table.set(`udp/${externalPort}`, { remoteHost: '', externalPort, protocol: 'udp', internalPort: externalPort, internalClient, enabled: true, description, leaseDurationS: 100 });
  };
  stale(7000, 'deskphone-agent udp/7000');
  stale(7001, 'deskphone-agent udp/7001', '192.168.77.9'); // another phone's
  stale(7002, 'Skype');
  igd.occupy(7003);
  const current = await mapper.map(5060, 'udp');
  const deleted = await mapper.reclaimStale();
  assert.deepEqual(deleted.map((e) => e.externalPort), [7000]);
  assert.deepEqual([...igd.table.keys()].sort(), ['udp/5060', 'udp/7001', 'udp/7002', 'udp/7003']);
  assert.ok(mapper.mappings().includes(current));
});
