// The PCP/NAT-PMP client over real UDP on loopback against a scripted server: matching answers to
// requests, retransmission, typed result codes, and the fall back from PCP to NAT-PMP on
// UNSUPP_VERSION. Short retransmission timers keep it fast. (miniupnpd is in the lab test.)
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { PortControlClient, PortControlError, toPcpAddress, type RetransmissionOptions } from '../../../../src/nat/pcp/index.js';

const FAST: RetransmissionOptions = { initialRtoMs: 40, maxRtoMs: 200, maxSends: 4, maxDurationMs: 0, jitter: 0 };

async function fakeServer(answer: (req: Buffer, n: number) => Buffer | Buffer[] | undefined): Promise<{ socket: Socket; port: number; requests: Buffer[] }> {
  const socket = createSocket('udp4');
  const requests: Buffer[] = [];
  socket.on('message', (req, rinfo) => {
    requests.push(req);
    const out = answer(req, requests.length);
    for (const b of out === undefined ? [] : Array.isArray(out) ? out : [out]) socket.send(b, rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port, requests };
}

/** A PCP MAP answer to `req` (copying nonce, protocol, internal port), with the given result. */
function pcpAnswer(req: Buffer, o: { result?: number; port?: number; lifetimeS?: number; epochS?: number; nonce?: Buffer } = {}): Buffer {
  const b = Buffer.alloc(60);
  b[0] = 2;
  b[1] = 0x81;
  b[3] = o.result ?? 0;
  b.writeUInt32BE(o.lifetimeS ?? req.readUInt32BE(4), 4);
  b.writeUInt32BE(o.epochS ?? 1000, 8);
  (o.nonce ?? req.subarray(24, 36)).copy(b, 24);
  b[36] = req[36] ?? 0;
  b.writeUInt16BE(req.readUInt16BE(40), 40);
  b.writeUInt16BE(o.port ?? 40000, 42);
  b.set(toPcpAddress('203.0.113.1'), 44);
  return b;
}

function natPmpAnswer(req: Buffer): Buffer {
  if (req[1] === 0) return Buffer.from('00800000000003e8cb007101', 'hex');
  const b = Buffer.alloc(16);
  b[1] = 128 + (req[1] ?? 0);
  b.writeUInt32BE(1000, 4);
  b.writeUInt16BE(req.readUInt16BE(4), 8);
  b.writeUInt16BE(40002, 10);
  b.writeUInt32BE(req.readUInt32BE(8), 12);
  return b;
}

test('PCP MAP: our address and a fresh nonce go out; the assigned port, address, lifetime and epoch come back', async () => {
  const server = await fakeServer((req) => pcpAnswer(req, { lifetimeS: 3600 }));
  const client = new PortControlClient({ gateway: '127.0.0.1', port: server.port, pcpRetransmission: FAST });
  try {
    const r = await client.map({ protocol: 'udp', internalPort: 5060, lifetimeS: 7200 });
    assert.equal(r.via, 'pcp');
    assert.equal(r.externalAddress, '203.0.113.1');
    assert.equal(r.externalPort, 40000);
    assert.equal(r.lifetimeS, 3600);
    assert.equal(r.epochS, 1000);
    const req = server.requests[0];
    assert.ok(req);
    assert.equal(req.readUInt32BE(4), 7200);
    assert.deepEqual(req.subarray(8, 24), Buffer.from(toPcpAddress('127.0.0.1')));
    assert.deepEqual(req.subarray(24, 36), Buffer.from(r.nonce ?? []));
    assert.equal(req.readUInt16BE(42), 5060, 'the internal port is the suggested external port by default');
    assert.equal(client.protocol, 'pcp');
  } finally {
    client.close();
    server.socket.close();
  }
});

test('lost requests are retransmitted; the third send is answered', async () => {
  const server = await fakeServer((req, n) => (n < 3 ? undefined : pcpAnswer(req)));
  const client = new PortControlClient({ gateway: '127.0.0.1', port: server.port, pcpRetransmission: FAST });
  try {
    await client.map({ protocol: 'udp', internalPort: 5060, lifetimeS: 60 });
    assert.equal(server.requests.length, 3);
    assert.deepEqual(server.requests[2], server.requests[0], 'a retransmission is the same request, nonce included');
  } finally {
    client.close();
    server.socket.close();
  }
});

test('a silent server: PortControlError timeout after the configured sends', async () => {
  const server = await fakeServer(() => undefined);
  const client = new PortControlClient({ gateway: '127.0.0.1', port: server.port, pcpRetransmission: FAST });
  try {
    await assert.rejects(client.map({ protocol: 'udp', internalPort: 5060, lifetimeS: 60 }), (err: unknown) => err instanceof PortControlError && err.code === 'timeout');
    assert.equal(server.requests.length, 4);
  } finally {
    client.close();
    server.socket.close();
  }
});

test('answers for another nonce are ignored; the right one settles the request', async () => {
  const server = await fakeServer((req) => [pcpAnswer(req, { nonce: Buffer.alloc(12, 7), port: 1 }), pcpAnswer(req, { port: 40001 })]);
  const client = new PortControlClient({ gateway: '127.0.0.1', port: server.port, pcpRetransmission: FAST });
  try {
    assert.equal((await client.map({ protocol: 'udp', internalPort: 5060, lifetimeS: 60 })).externalPort, 40001);
  } finally {
    client.close();
    server.socket.close();
  }
});

test('a PCP result code becomes a typed error with its lifetime', async () => {
  const server = await fakeServer((req) => pcpAnswer(req, { result: 2, lifetimeS: 30 }));
  const client = new PortControlClient({ gateway: '127.0.0.1', port: server.port, pcpRetransmission: FAST });
  try {
    await assert.rejects(
      client.map({ protocol: 'tcp', internalPort: 22, lifetimeS: 60 }),
      (err: unknown) => err instanceof PortControlError && err.code === 'NOT_AUTHORIZED' && err.details.protocol === 'pcp' && err.details.resultCode === 2 && err.details.lifetimeS === 30,
    );
  } finally {
    client.close();
    server.socket.close();
  }
});

test('a NAT-PMP-only server answers UNSUPP_VERSION: the client maps by NAT-PMP and stays with it', async () => {
  const server = await fakeServer((req) => (req[0] === 2 ? Buffer.from('008100010000012c', 'hex') : natPmpAnswer(req)));
  const client = new PortControlClient({ gateway: '127.0.0.1', port: server.port, pcpRetransmission: FAST, natPmpRetransmission: FAST });
  try {
    const r = await client.map({ protocol: 'udp', internalPort: 5060, lifetimeS: 7200 });
    assert.deepEqual({ ...r, receivedAtMs: 0 }, {
      via: 'natpmp', protocol: 'udp', internalPort: 5060, externalPort: 40002, externalAddress: '203.0.113.1', lifetimeS: 7200, epochS: 1000, receivedAtMs: 0,
    });
    assert.equal(client.protocol, 'natpmp');
    assert.deepEqual(server.requests.map((q) => q.subarray(0, 2).toString('hex')), ['0201', '0001', '0000']);
    await client.map({ protocol: 'tcp', internalPort: 5061, lifetimeS: 7200 });
    assert.deepEqual(server.requests.slice(3).map((q) => q.subarray(0, 2).toString('hex')), ['0002', '0000'], 'no PCP attempt once NAT-PMP is known');
  } finally {
    client.close();
    server.socket.close();
  }
});

test('a PCP server with another version answers UNSUPP_VERSION; protocol "pcp" does not fall back', async () => {
  const server = await fakeServer(() => Buffer.from('01810001000000000000012c000000000000000000000000', 'hex'));
  const client = new PortControlClient({ gateway: '127.0.0.1', port: server.port, pcpRetransmission: FAST, protocol: 'pcp' });
  try {
    await assert.rejects(client.map({ protocol: 'udp', internalPort: 5060, lifetimeS: 60 }), (err: unknown) => err instanceof PortControlError && err.code === 'UNSUPP_VERSION');
  } finally {
    client.close();
    server.socket.close();
  }
});

test('nothing on the port: ICMP unreachable fails the request with network, long before the timeout', async () => {
  const server = await fakeServer(() => undefined);
  const port = server.port;
  server.socket.close();
  const client = new PortControlClient({ gateway: '127.0.0.1', port, pcpRetransmission: { ...FAST, initialRtoMs: 5000 } });
  try {
    const t0 = Date.now();
    await assert.rejects(client.map({ protocol: 'udp', internalPort: 5060, lifetimeS: 60 }), (err: unknown) => err instanceof PortControlError && err.code === 'network');
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    client.close();
  }
});

test('close() fails requests in flight with closed', async () => {
  const server = await fakeServer(() => undefined);
  const client = new PortControlClient({ gateway: '127.0.0.1', port: server.port, pcpRetransmission: FAST });
  try {
    const pending = client.map({ protocol: 'udp', internalPort: 5060, lifetimeS: 60 });
    await once(server.socket, 'message');
    client.close();
    await assert.rejects(pending, (err: unknown) => err instanceof PortControlError && err.code === 'closed');
  } finally {
    server.socket.close();
  }
});
