import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeResponse, parseMessage, parseVia, topVia, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';
import { TransportLayer, responseDestination, type Destination, type Incoming } from '../../../../src/sip/transport/index.js';
import { SystemClock } from '../../../../src/util/index.js';
import { tempDir } from '../../../helpers/tmp.js';

const clock = new SystemClock();
const layers: TransportLayer[] = [];
after(async () => {
  for (const l of layers) await within(l.close(), 5000, 'transport layer close');
});

/** Every wait in this file is bounded: a lost event fails the test by name instead of hanging it. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const options = (extra: string[] = [], host = '192.0.2.99:5099') => Buffer.from([
  'OPTIONS sip:phone@127.0.0.1 SIP/2.0', `Via: SIP/2.0/UDP ${host};branch=z9hG4bK${Math.random().toString(36).slice(2)}${extra.includes('rport') ? ';rport' : ''}`,
  'From: <sip:a@example.com>;tag=1', 'To: <sip:phone@example.com>', 'Call-ID: t1', 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
].join('\r\n'));

async function start(extra: Partial<ConstructorParameters<typeof TransportLayer>[0]> = {}) {
  const inbox: Incoming[] = [];
  const waiters: Array<() => void> = [];
  const t = new TransportLayer({
    clock, addresses: ['127.0.0.1'], port: 0, transports: ['UDP', 'TCP'], onMessage: (m) => {
      inbox.push(m);
      for (const w of waiters.splice(0)) w();
    }, ...extra,
  });
  await within(t.start(), 5000, 'transport start');
  layers.push(t);
  const next = async (n = 1): Promise<Incoming> => {
    const deadline = Date.now() + 3000;
    while (inbox.length < n) {
      if (Date.now() > deadline) throw new Error(`no message ${n} within 3 s`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return inbox[n - 1] as Incoming;
  };
  return { t, inbox, next };
}

function udpPeer() {
  const sock = createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (b) => got.push(b));
  after(() => sock.close());
  return within(new Promise<{ sock: typeof sock; got: Buffer[]; port: number; wait(n: number): Promise<void> }>((resolve) => sock.bind(0, '127.0.0.1', () => resolve({
    sock, got, port: sock.address().port,
    async wait(n) {
      const deadline = Date.now() + 3000;
      while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(got.length >= n, `expected ${n} datagrams, got ${got.length}`);
    },
  }))), 3000, 'UDP peer bind');
}

test('UDP: a request gets received and rport stamped; the response goes to the source port (RFC 3581)', async () => {
  const { t, next } = await start();
  const peer = await udpPeer();
  peer.sock.send(options(['rport']), t.port, '127.0.0.1');
  const m = await next();
  const via = topVia(m.message);
  assert.equal(via.params.get('received'), '127.0.0.1');
  assert.equal(via.params.get('rport'), String(peer.port));
  await within(t.send(makeResponse(m.message as SipRequest, 200), m.source), 3000, 'UDP response send');
  await peer.wait(1);
  assert.match(peer.got[0]?.toString() ?? '', /^SIP\/2\.0 200 OK/);
});

test('response routing follows §18.2.2 and RFC 3581 in every branch', () => {
  const udp: Destination = { transport: 'UDP', address: '203.0.113.5', port: 40000, reliable: false };
  const via = (v: string) => parseVia(v)[0] as ReturnType<typeof parseVia>[0];
  assert.deepEqual(responseDestination(via('SIP/2.0/UDP 192.168.1.2:5062;received=203.0.113.5;rport=40000'), udp), { transport: 'UDP', address: '203.0.113.5', port: 40000, reliable: false });
  assert.deepEqual(responseDestination(via('SIP/2.0/UDP 192.168.1.2:5062;received=203.0.113.5'), udp), { transport: 'UDP', address: '203.0.113.5', port: 5062, reliable: false });
  assert.deepEqual(responseDestination(via('SIP/2.0/UDP 198.51.100.1'), udp), { transport: 'UDP', address: '198.51.100.1', port: 5060, reliable: false });
  assert.deepEqual(responseDestination(via('SIP/2.0/UDP h.example.com;maddr=239.1.1.1'), udp), { transport: 'UDP', address: '239.1.1.1', port: 5060, reliable: false });
  assert.deepEqual(responseDestination(via('SIP/2.0/UDP [2001:db8::1]:5070;received=2001:db8::9'), udp), { transport: 'UDP', address: '2001:db8::9', port: 5070, reliable: false });
  const tcp: Destination = { transport: 'TCP', address: '203.0.113.5', port: 50000, reliable: true, connectionId: 'TCP-7' };
  assert.deepEqual(responseDestination(via('SIP/2.0/TCP 192.168.1.2:5062;received=203.0.113.5'), tcp), tcp);
});

test('UDP: garbage never crashes; a malformed request with a Via gets 400, a wrong version 505', async () => {
  const { t, inbox } = await start();
  const peer = await udpPeer();
  for (const junk of [Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('\r\n\r\n'), Buffer.alloc(0), Buffer.from('HELLO\r\n\r\n')]) peer.sock.send(junk, t.port, '127.0.0.1');
  const host = `127.0.0.1:${peer.port}`;
  peer.sock.send(Buffer.from(options([], host).toString().replace('Content-Length: 0', 'Content-Length: 50')), t.port, '127.0.0.1');
  peer.sock.send(Buffer.from(options([], host).toString().replace('SIP/2.0\r\nVia', 'SIP/7.0\r\nVia')), t.port, '127.0.0.1');
  await peer.wait(2);
  assert.deepEqual(peer.got.map((b) => b.toString().split('\r\n')[0]).sort(), ['SIP/2.0 400 Bad Request', 'SIP/2.0 505 Version Not Supported']);
  assert.equal(inbox.length, 0);
});

test('UDP: STUN packets (first byte 0-3) go to onNonSip, not the parser', async () => {
  const stun: Buffer[] = [];
  const { t } = await start({ onNonSip: (b) => stun.push(b) });
  const peer = await udpPeer();
  const binding = Buffer.alloc(20);
  binding.writeUInt16BE(0x0001, 0);
  binding.writeUInt32BE(0x2112a442, 4);
  peer.sock.send(binding, t.port, '127.0.0.1');
  const deadline = Date.now() + 2000;
  while (stun.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(stun[0]?.readUInt32BE(4), 0x2112a442);
});

test('admission: a source over its rate gets 503 with Retry-After', async () => {
  let n = 0;
  const { t, inbox } = await start({ admit: () => (++n > 2 ? { ok: false, retryAfterS: 7 } : { ok: true }) });
  const peer = await udpPeer();
  for (let i = 0; i < 3; i++) peer.sock.send(options(['rport'], `127.0.0.1:${peer.port}`), t.port, '127.0.0.1');
  await peer.wait(1);
  const res = parseMessage(peer.got[0] as Buffer) as SipResponse;
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('Retry-After'), '7');
  assert.equal(inbox.length, 2);
});

function tcpClient(port: number) {
  const sock = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  const errors: Error[] = [];
  sock.on('data', (d) => chunks.push(d));
  // A peer that closes on us may reset the connection; 'close' follows, which is what tests wait for.
  sock.on('error', (err) => errors.push(err));
  // Attached now, so a close that happens before a test awaits it is not missed.
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  after(() => sock.destroy());
  return {
    sock, errors, text: () => Buffer.concat(chunks).toString(),
    ready: within(new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('close', () => reject(new Error(`TCP client closed before connecting: ${errors[0]?.message ?? 'no error'}`)));
    }), 3000, 'TCP client connect'),
    closed: (what: string) => within(closed, 3000, what),
  };
}

test('TCP: messages split at any point are framed; the response returns on the same connection; CRLF ping gets a pong', async () => {
  const { t, next } = await start();
  const c = tcpClient(t.port);
  await c.ready;
  const bytes = Buffer.concat([options([], '127.0.0.1:1'), options([], '127.0.0.1:1')]);
  for (let i = 0; i < bytes.length; i += 37) {
    c.sock.write(bytes.subarray(i, i + 37));
    await new Promise((r) => setImmediate(r));
  }
  const first = await next(1);
  await next(2);
  assert.equal(first.source.reliable, true);
  await within(t.send(makeResponse(first.message as SipRequest, 200), first.source), 3000, 'TCP response send');
  c.sock.write('\r\n\r\n');
  const deadline = Date.now() + 2000;
  while (!c.text().endsWith('\r\n\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.match(c.text(), /^SIP\/2\.0 200 OK\r\n/);
  assert.ok(c.text().endsWith('Content-Length: 0\r\n\r\n\r\n'), 'pong after the response');
  assert.equal(t.connectionCount, 1);
});

test('TCP: an oversize message or broken framing closes the connection', async () => {
  const { t } = await start({ maxStreamMessageBytes: 4096 });
  const c = tcpClient(t.port);
  await c.ready;
  c.sock.write(options().toString().replace('Content-Length: 0', 'Content-Length: 100000'));
  await c.closed('connection with an oversize Content-Length closed by the server');
  const d = tcpClient(t.port);
  await d.ready;
  d.sock.write(options().toString().replace('Content-Length: 0', 'Content-Length: -1'));
  await d.closed('connection with Content-Length -1 closed by the server');
});

test('TCP: a second request to the same peer reuses the connection; idle connections close', async () => {
  // Idle times long enough that a loaded machine does not close the connection before the ping;
  // the client's runs out first and the server sees the close.
  const server = await start({ idleTimeoutMs: 1500 });
  const client = await start({ idleTimeoutMs: 1000 });
  const dest: Destination = { transport: 'TCP', address: '127.0.0.1', port: server.t.port, reliable: true };
  await within(client.t.send(parseMessage(options()) as SipRequest, dest), 3000, 'first TCP send');
  await within(client.t.send(parseMessage(options()) as SipRequest, dest), 3000, 'second TCP send');
  await server.next(2);
  assert.equal(client.t.connectionCount, 1);
  assert.equal(server.t.connectionCount, 1);
  await within(client.t.ping(dest, 2000), 3000, 'CRLF ping');
  const deadline = Date.now() + 5000;
  while ((client.t.connectionCount > 0 || server.t.connectionCount > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(client.t.connectionCount, 0);
  assert.equal(server.t.connectionCount, 0);
});

test('TLS: verification fails without the CA and works with it (SNI names the server)', async () => {
  const dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=sip.test', '-addext', 'subjectAltName=DNS:sip.test', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'k.pem'));
  const cert = readFileSync(join(dir, 'c.pem'));
  const server = await start({ transports: ['TLS'], tls: { key, cert, port: 0, rejectUnauthorized: true } });
  const dest: Destination = { transport: 'TLS', address: '127.0.0.1', port: server.t.tlsListeningPort, reliable: true, serverName: 'sip.test' };
  const strict = await start({ transports: ['UDP'], tls: { key, cert, port: 0, rejectUnauthorized: true } });
  await assert.rejects(within(strict.t.send(parseMessage(options()) as SipRequest, dest), 12_000, 'TLS send without the CA'), /connect .* failed|self.signed|certificate/i);
  const trusting = await start({ transports: ['UDP'], tls: { key, cert, port: 0, ca: cert, rejectUnauthorized: true } });
  await within(trusting.t.send(parseMessage(options()) as SipRequest, dest), 12_000, 'TLS send with the CA');
  assert.equal((await server.next()).source.transport, 'TLS');
  const wrongName = await start({ transports: ['UDP'], tls: { key, cert, port: 0, ca: cert, rejectUnauthorized: true } });
  await assert.rejects(within(wrongName.t.send(parseMessage(options()) as SipRequest, { ...dest, serverName: 'other.test' }), 12_000, 'TLS send to the wrong name'), /does not match|altnames/i);
});

test('close() releases sockets and timers', async () => {
  const { t } = await start({ idleTimeoutMs: 60_000 });
  const c = tcpClient(t.port);
  await c.ready;
  c.sock.write(options());
  await new Promise((r) => setTimeout(r, 50));
  await within(t.close(), 5000, 'transport layer close');
  await assert.rejects(t.send(parseMessage(options()) as SipRequest, { transport: 'UDP', address: '127.0.0.1', port: 9, reliable: false }), /closed/);
});

test('dual stack: one socket per family; an IPv6 request is stamped and answered over IPv6', async () => {
  const { t, next } = await start({ addresses: ['127.0.0.1', '::1'], transports: ['UDP'] });
  const sock = createSocket('udp6');
  const got: Buffer[] = [];
  sock.on('message', (b) => got.push(b));
  await within(new Promise<void>((r) => sock.bind(0, '::1', () => r())), 3000, 'UDP6 peer bind');
  after(() => sock.close());
  const me = sock.address().port;
  sock.send(options(['rport'], `[::1]:${me}`), t.port, '::1');
  const m = await next();
  assert.equal(m.source.address, '::1');
  assert.equal(topVia(m.message).params.get('rport'), String(me));
  await within(t.send(makeResponse(m.message as SipRequest, 200), m.source), 3000, 'UDP6 response send');
  const deadline = Date.now() + 2000;
  while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.match(got[0]?.toString() ?? '', /^SIP\/2\.0 200 OK/);
  assert.ok(t.udpSocket(4) && t.udpSocket(6));
});

test('start() that cannot bind rejects and leaves nothing bound (an orphaned socket would keep the process alive)', async () => {
  // A port free for UDP whose TCP number this test holds: the layer binds UDP, then fails TCP.
  const taken = createServer();
  after(() => taken.close());
  let port = 0;
  for (let attempt = 0; attempt < 20 && port === 0; attempt++) {
    const probe = createSocket('udp4');
    const candidate = await within(new Promise<number>((r) => probe.bind(0, '127.0.0.1', () => r(probe.address().port))), 3000, 'UDP probe bind');
    const held = await within(new Promise<boolean>((r) => {
      taken.once('error', () => r(false));
      taken.listen(candidate, '127.0.0.1', () => r(true));
    }), 3000, 'TCP listen');
    taken.removeAllListeners('error');
    await within(new Promise<void>((r) => probe.close(() => r())), 3000, 'UDP probe close');
    if (held) port = candidate;
  }
  assert.ok(port > 0, 'no port free for both UDP and TCP');
  const t = new TransportLayer({ clock, addresses: ['127.0.0.1'], port, transports: ['UDP', 'TCP'], onMessage: () => {} });
  await assert.rejects(within(t.start(), 5000, 'transport start'), /EADDRINUSE/);
  assert.equal(t.udpSocket(4), undefined);
  // The UDP socket bound before TCP failed was released: the number is free for UDP again.
  const udp = createSocket('udp4');
  await within(new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, '127.0.0.1', () => resolve());
  }), 3000, 'UDP bind on the released port');
  await within(new Promise<void>((r) => udp.close(() => r())), 3000, 'UDP close');
});

test('a ping on a connection the peer closes fails at once, not at its timeout', async () => {
  const peer = createServer((s) => s.on('data', () => s.destroy()));
  after(() => peer.close());
  await within(new Promise<void>((r) => peer.listen(0, '127.0.0.1', () => r())), 3000, 'TCP listen');
  const { t } = await start();
  const dest: Destination = { transport: 'TCP', address: '127.0.0.1', port: (peer.address() as { port: number }).port, reliable: true };
  await assert.rejects(within(t.ping(dest, 60_000), 5000, 'ping on a closing connection'), /connection closed/);
});
