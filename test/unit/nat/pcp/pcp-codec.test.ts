// PCP messages against the packet layouts of RFC 6887: request header (Figure 2), response header
// (Figure 3), options (Figure 4), MAP request and response (Figures 9 and 10), and the §8.3 size rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PortControlError, decodePcpMapResponse, decodePcpResponseHeader, encodePcpMapRequest, fromPcpAddress, isPcpMapResponse, toPcpAddress,
} from '../../../../src/nat/pcp/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const NONCE = hex('0102030405060708090a0b0c');

const MAP_REQUEST = hex(`
  02 01 0000  00001c20
  00000000 00000000 0000ffff c0a84d02
  0102030405060708090a0b0c
  11 000000  13c4 13c4
  00000000 00000000 0000ffff 00000000`);

const MAP_RESPONSE = hex(`
  02 81 00 00  00001c20  0000012c  000000000000000000000000
  0102030405060708090a0b0c
  11 000000  13c4 9c40
  00000000 00000000 0000ffff cb007101`);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PortControlError);
    return err.code;
  }
  return 'no error';
}

test('MAP request: version 2, R=0 opcode 1, lifetime, client address IPv4-mapped, MAP fields, no preference ::ffff:0.0.0.0', () => {
  const bytes = encodePcpMapRequest({ lifetimeS: 7200, clientAddress: '192.168.77.2', nonce: NONCE, protocol: 'udp', internalPort: 5060, suggestedExternalPort: 5060 });
  assert.equal(bytes.length, 60);
  assert.deepEqual(Buffer.from(bytes), MAP_REQUEST);
});

test('MAP request for TCP with a suggested external address, IPv6 client and an option padded to 4', () => {
  const bytes = Buffer.from(encodePcpMapRequest({
    lifetimeS: 0, clientAddress: '2001:db8::2', nonce: NONCE, protocol: 'tcp', internalPort: 80, suggestedExternalPort: 0,
    suggestedExternalAddress: '203.0.113.1', options: [{ code: 1, data: Uint8Array.of(9, 9, 9) }],
  }));
  assert.equal(bytes.length, 60 + 8);
  assert.deepEqual(bytes.subarray(8, 24), hex('20010db8000000000000000000000002'));
  assert.equal(bytes[24 + 12], 6);
  assert.deepEqual(bytes.subarray(24 + 20, 24 + 36), hex('00000000000000000000ffffcb007101'));
  assert.deepEqual(bytes.subarray(60), hex('01 00 0003 090909 00'));
});

test('MAP request: all-zeros IPv6 as no preference for an IPv6 client', () => {
  const bytes = Buffer.from(encodePcpMapRequest({ lifetimeS: 10, clientAddress: '2001:db8::2', nonce: NONCE, protocol: 'udp', internalPort: 1, suggestedExternalPort: 0 }));
  assert.deepEqual(bytes.subarray(44, 60), Buffer.alloc(16));
});

test('the encoder refuses values the wire cannot carry', () => {
  const base = { lifetimeS: 10, clientAddress: '192.168.77.2', nonce: NONCE, protocol: 'udp' as const, internalPort: 5060, suggestedExternalPort: 0 };
  assert.equal(code(() => encodePcpMapRequest({ ...base, nonce: new Uint8Array(8) })), 'malformed');
  assert.equal(code(() => encodePcpMapRequest({ ...base, internalPort: 0 })), 'malformed');
  assert.equal(code(() => encodePcpMapRequest({ ...base, lifetimeS: 2 ** 32 })), 'malformed');
  assert.equal(code(() => encodePcpMapRequest({ ...base, clientAddress: 'router' })), 'malformed');
  assert.equal(code(() => encodePcpMapRequest({ ...base, options: [{ code: 1, data: new Uint8Array(1100) }] })), 'malformed');
});

test('MAP response: header (result, lifetime, epoch) and the assigned external port and address', () => {
  const r = decodePcpMapResponse(MAP_RESPONSE);
  assert.ok(isPcpMapResponse(r));
  assert.deepEqual({ ...r, nonce: Buffer.from(r.nonce) }, {
    version: 2, opcode: 1, resultCode: 0, lifetimeS: 7200, epochS: 300,
    nonce: NONCE, protocol: 17, internalPort: 5060, assignedExternalPort: 40000, assignedExternalAddress: '203.0.113.1', options: [],
  });
});

test('an error response may stop after the 24-byte header', () => {
  const r = decodePcpMapResponse(hex('02 81 00 02  0000001e 0000012c 000000000000000000000000'));
  assert.equal(isPcpMapResponse(r), false);
  assert.equal(r.resultCode, 2);
  assert.equal(r.lifetimeS, 30);
});

test('options after the MAP fields are decoded; one that runs past the end is malformed', () => {
  const withOption = Buffer.concat([MAP_RESPONSE, hex('02 00 0000'), hex('01 00 0002 aabb 0000')]);
  const r = decodePcpMapResponse(withOption);
  assert.ok(isPcpMapResponse(r));
  assert.deepEqual(r.options.map((o) => [o.code, Buffer.from(o.data).toString('hex')]), [[2, ''], [1, 'aabb']]);
  assert.equal(code(() => decodePcpMapResponse(Buffer.concat([MAP_RESPONSE, hex('01 00 0010 aabbccdd')]))), 'malformed');
});

test('RFC 6887 §8.3 size rules: under 24, over 1100 or not a multiple of 4 is malformed; so is a request', () => {
  assert.equal(code(() => decodePcpResponseHeader(new Uint8Array(20))), 'malformed');
  assert.equal(code(() => decodePcpResponseHeader(new Uint8Array(1104).fill(0x81, 1, 2))), 'malformed');
  assert.equal(code(() => decodePcpResponseHeader(MAP_RESPONSE.subarray(0, 58))), 'malformed');
  assert.equal(code(() => decodePcpResponseHeader(MAP_REQUEST)), 'malformed');
  assert.equal(code(() => decodePcpMapResponse(MAP_RESPONSE.subarray(0, 24))), 'malformed', 'a success needs its MAP fields');
});

test('addresses: IPv4 as ::ffff:a.b.c.d, IPv6 in RFC 5952 text', () => {
  assert.equal(Buffer.from(toPcpAddress('203.0.113.1')).toString('hex'), '00000000000000000000ffffcb007101');
  assert.equal(fromPcpAddress(toPcpAddress('203.0.113.1')), '203.0.113.1');
  assert.equal(fromPcpAddress(toPcpAddress('2001:db8::1')), '2001:db8::1');
  assert.equal(fromPcpAddress(toPcpAddress('::')), '::');
  assert.equal(fromPcpAddress(toPcpAddress('2001:db8:0:1:0:0:0:1')), '2001:db8:0:1::1');
  assert.equal(fromPcpAddress(toPcpAddress('64:ff9b::192.0.2.33')), '64:ff9b::c000:221');
});
