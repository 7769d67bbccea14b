import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, test } from 'node:test';
import {
  CachingResolver, NodeResolver, ServerLocator, TargetCursor, orderSrv, type AddressRecord, type DnsResolver, type NaptrRecord, type SrvRecord,
} from '../../../../src/sip/dns/index.js';
import { FakeClock } from '../../../../src/util/index.js';

type Zone = { naptr?: Record<string, NaptrRecord[]>; srv?: Record<string, SrvRecord[]>; a?: Record<string, string[]>; aaaa?: Record<string, string[]> };

function fake(zone: Zone): DnsResolver & { queries: string[] } {
  const queries: string[] = [];
  const addr = (list: string[] | undefined, family: 4 | 6): AddressRecord[] => (list ?? []).map((address) => ({ address, family, ttlS: 60 }));
  return {
    queries,
    naptr: async (n) => (queries.push(`NAPTR ${n}`), zone.naptr?.[n] ?? []),
    srv: async (n) => (queries.push(`SRV ${n}`), zone.srv?.[n] ?? []),
    a: async (n) => (queries.push(`A ${n}`), addr(zone.a?.[n], 4)),
    aaaa: async (n) => (queries.push(`AAAA ${n}`), addr(zone.aaaa?.[n], 6)),
  };
}
const naptr = (order: number, pref: number, service: string, replacement: string): NaptrRecord => ({ order, preference: pref, flags: 's', service, regexp: '', replacement, ttlS: 300 });
const srv = (priority: number, weight: number, port: number, name: string): SrvRecord => ({ priority, weight, port, name, ttlS: 300 });

const ZONE: Zone = {
  naptr: { 'example.test': [naptr(20, 10, 'SIP+D2U', '_sip._udp.example.test'), naptr(10, 10, 'SIPS+D2T', '_sips._tcp.example.test'), naptr(10, 20, 'SIP+D2T', '_sip._tcp.example.test'), naptr(5, 1, 'SIP+D2X', '_sip._x.example.test')] },
  srv: {
    '_sips._tcp.example.test': [srv(10, 0, 5061, 'tls.example.test')],
    '_sip._tcp.example.test': [srv(10, 0, 5060, 'tcp.example.test')],
    '_sip._udp.example.test': [srv(20, 0, 5080, 'backup.example.test'), srv(10, 0, 5060, 'udp.example.test')],
    '_sip._udp.srvonly.test': [srv(1, 0, 5070, 'udp.example.test')],
    '_sip._udp.dead.test': [srv(0, 0, 0, '.')],
  },
  a: { 'tls.example.test': ['198.51.100.3'], 'tcp.example.test': ['198.51.100.2'], 'udp.example.test': ['198.51.100.1'], 'backup.example.test': ['198.51.100.9'], 'plain.test': ['203.0.113.7'] },
  aaaa: { 'udp.example.test': ['2001:db8::1'], 'v6only.test': ['2001:db8::66'] },
};

const summary = (ts: Array<{ transport: string; address: string; port: number }>) => ts.map((t) => `${t.transport} ${t.address}:${t.port}`);

test('NAPTR: order, then preference; unsupported services skipped; each SRV resolved in priority order', async () => {
  const loc = new ServerLocator(fake(ZONE), ['UDP', 'TCP', 'TLS'], () => 0);
  assert.deepEqual(summary(await loc.locate({ host: 'example.test' })), [
    'TLS 198.51.100.3:5061', 'TCP 198.51.100.2:5060', 'UDP 198.51.100.1:5060', 'UDP 2001:db8::1:5060', 'UDP 198.51.100.9:5080',
  ]);
  const udpOnly = new ServerLocator(fake(ZONE), ['UDP'], () => 0);
  assert.deepEqual(summary(await udpOnly.locate({ host: 'example.test' })).slice(0, 1), ['UDP 198.51.100.1:5060']);
  assert.deepEqual(summary(await loc.locate({ host: 'example.test', secure: true })), ['TLS 198.51.100.3:5061']);
});

test('numeric IPs and explicit ports skip NAPTR and SRV; an explicit transport queries its SRV', async () => {
  const dns = fake(ZONE);
  const loc = new ServerLocator(dns);
  assert.deepEqual(summary(await loc.locate({ host: '192.0.2.5' })), ['UDP 192.0.2.5:5060']);
  assert.deepEqual(summary(await loc.locate({ host: '[2001:db8::5]', transport: 'TLS' })), ['TLS 2001:db8::5:5061']);
  assert.deepEqual(summary(await loc.locate({ host: 'plain.test', port: 5099 })), ['UDP 203.0.113.7:5099']);
  assert.deepEqual(dns.queries, ['A plain.test', 'AAAA plain.test']);
  assert.deepEqual(summary(await loc.locate({ host: 'example.test', transport: 'TCP' })), ['TCP 198.51.100.2:5060']);
});

test('no NAPTR: SRV per supported transport; no SRV: A/AAAA on the default port; "." means no service', async () => {
  const loc = new ServerLocator(fake(ZONE), ['UDP', 'TCP']);
  assert.deepEqual(summary(await loc.locate({ host: 'srvonly.test' })), ['UDP 198.51.100.1:5070', 'UDP 2001:db8::1:5070']);
  assert.deepEqual(summary(await loc.locate({ host: 'plain.test' })), ['UDP 203.0.113.7:5060']);
  assert.deepEqual(summary(await loc.locate({ host: 'v6only.test' })), ['UDP 2001:db8::66:5060']);
  assert.deepEqual(await loc.locate({ host: 'dead.test', transport: 'UDP' }), []);
});

test('SRV weights: 10,000 seeded draws pick each first in proportion to its weight', () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const records = [srv(10, 60, 1, 'a'), srv(10, 30, 1, 'b'), srv(10, 10, 1, 'c'), srv(20, 100, 1, 'z')];
  const firsts: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 10_000; i++) {
    const o = orderSrv(records, random);
    assert.equal(o[3]?.name, 'z', 'a higher priority number always comes last');
    firsts[o[0]?.name ?? '']! += 1;
  }
  assert.ok(Math.abs((firsts['a'] ?? 0) / 10_000 - 0.6) < 0.03, JSON.stringify(firsts));
  assert.ok(Math.abs((firsts['b'] ?? 0) / 10_000 - 0.3) < 0.03, JSON.stringify(firsts));
  assert.ok(Math.abs((firsts['c'] ?? 0) / 10_000 - 0.1) < 0.03, JSON.stringify(firsts));
});

test('failover walks the targets in order (timeout, transport error or 503 → next)', async () => {
  const cur = new TargetCursor(await new ServerLocator(fake(ZONE), ['UDP'], () => 0).locate({ host: 'example.test' }));
  assert.equal(cur.current?.address, '198.51.100.1');
  assert.equal(cur.next()?.address, '2001:db8::1');
  assert.equal(cur.next()?.address, '198.51.100.9');
  assert.equal(cur.next(), undefined);
  assert.equal(cur.remaining, 0);
});

test('the cache honours TTLs, caches negative answers briefly and shares concurrent queries', async () => {
  const clock = new FakeClock();
  const dns = fake(ZONE);
  const cache = new CachingResolver(dns, clock, { negativeTtlS: 30 });
  await Promise.all([cache.a('plain.test'), cache.a('plain.test')]);
  await cache.a('plain.test');
  assert.equal(dns.queries.filter((q) => q === 'A plain.test').length, 1);
  clock.advance(61_000);
  await cache.a('plain.test');
  assert.equal(dns.queries.filter((q) => q === 'A plain.test').length, 2, 'expired after the 60 s TTL');
  await cache.a('missing.test');
  clock.advance(29_000);
  await cache.a('missing.test');
  clock.advance(2_000);
  await cache.a('missing.test');
  assert.equal(dns.queries.filter((q) => q === 'A missing.test').length, 2, 'negative answers live 30 s');
  const small = new CachingResolver(dns, clock, { maxEntries: 3 });
  for (const n of ['a1', 'a2', 'a3', 'a4', 'a5']) await small.a(n);
  assert.equal(small.size, 3);
});

// A small authoritative DNS responder on loopback, so the node:dns driver is proven end to end.
function encodeName(name: string): Buffer {
  return Buffer.concat([...name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}
function charString(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
}
function readName(b: Buffer, off: number): { name: string; end: number } {
  const labels: string[] = [];
  while (b[off] !== 0) {
    const len = b[off] as number;
    labels.push(b.subarray(off + 1, off + 1 + len).toString());
    off += len + 1;
  }
  return { name: labels.join('.'), end: off + 1 };
}
type RR = { type: number; ttl: number; data: Buffer };
const REAL_ZONE: Record<string, RR[]> = {
  'example.test|35': [{ type: 35, ttl: 120, data: Buffer.concat([Buffer.from([0, 10, 0, 10]), charString('S'), charString('SIP+D2U'), charString(''), encodeName('_sip._udp.example.test')]) }],
  '_sip._udp.example.test|33': [{ type: 33, ttl: 120, data: Buffer.concat([Buffer.from([0, 10, 0, 5, 0x13, 0xc4]), encodeName('pbx.example.test')]) }],
  'pbx.example.test|1': [{ type: 1, ttl: 42, data: Buffer.from([127, 0, 0, 1]) }],
  'pbx.example.test|28': [{ type: 28, ttl: 42, data: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) }],
};

async function startResponder(): Promise<{ port: number; close(): void }> {
  const sock = createSocket('udp4');
  sock.on('message', (q, rinfo) => {
    const { name, end } = readName(q, 12);
    const qtype = q.readUInt16BE(end);
    const answers = REAL_ZONE[`${name.toLowerCase()}|${qtype}`] ?? [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(q.readUInt16BE(0), 0);
    const known = Object.keys(REAL_ZONE).some((k) => k.startsWith(`${name.toLowerCase()}|`));
    header.writeUInt16BE(known ? 0x8580 : 0x8583, 2); // authoritative answer, or NXDOMAIN for names not in the zone
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const question = q.subarray(12, end + 4);
    const rrs = answers.map((a) => {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt16BE(a.type, 0);
      fixed.writeUInt16BE(1, 2);
      fixed.writeUInt32BE(a.ttl, 4);
      fixed.writeUInt16BE(a.data.length, 8);
      return Buffer.concat([Buffer.from([0xc0, 0x0c]), fixed, a.data]);
    });
    sock.send(Buffer.concat([header, question, ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, close: () => sock.close() };
}

test('node:dns against a real responder on loopback: NAPTR → SRV → A/AAAA, with the A record TTL in the cache', async () => {
  const responder = await startResponder();
  after(() => responder.close());
  const clock = new FakeClock();
  const resolver = new NodeResolver({ servers: [`127.0.0.1:${responder.port}`], timeoutMs: 1000, tries: 1 });
  const cache = new CachingResolver(resolver, clock, { minTtlS: 1 });
  const loc = new ServerLocator(cache, ['UDP'], () => 0);
  const targets = await loc.locate({ host: 'example.test' });
  assert.deepEqual(summary(targets), ['UDP 127.0.0.1:5060', 'UDP ::1:5060']);
  const a = await resolver.a('pbx.example.test');
  assert.deepEqual(a, [{ address: '127.0.0.1', family: 4, ttlS: 42 }]);
  assert.deepEqual(await resolver.a('nothing.example.test'), [], 'NXDOMAIN is an empty answer');
  clock.advance(41_000);
  assert.equal((await cache.a('pbx.example.test'))[0]?.address, '127.0.0.1');
});
