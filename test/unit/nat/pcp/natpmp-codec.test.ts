// NAT-PMP messages against RFC 6886's layouts: external address request/response (§3.2), mapping
// request/response (§3.3), deletion (§3.4) and result-code responses (§3.5).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PortControlError, decodeNatPmpResponse, encodeNatPmpExternalAddressRequest, encodeNatPmpMapRequest } from '../../../../src/nat/pcp/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PortControlError);
    return err.code;
  }
  return 'no error';
}

test('external address request is version 0, opcode 0: two bytes', () => {
  assert.deepEqual(Buffer.from(encodeNatPmpExternalAddressRequest()), hex('00 00'));
});

test('external address response: opcode 128, result, seconds since epoch, the IPv4 address', () => {
  assert.deepEqual(decodeNatPmpResponse(hex('00 80 0000 0000012c cb007101')), {
    version: 0, opcode: 128, resultCode: 0, epochS: 300, kind: 'external-address', externalAddress: '203.0.113.1',
  });
});

test('UDP and TCP map requests: opcode 1 and 2, reserved, internal port, suggested external port, lifetime', () => {
  assert.deepEqual(Buffer.from(encodeNatPmpMapRequest({ protocol: 'udp', internalPort: 5060, suggestedExternalPort: 5060, lifetimeS: 7200 })), hex('00 01 0000 13c4 13c4 00001c20'));
  assert.deepEqual(Buffer.from(encodeNatPmpMapRequest({ protocol: 'tcp', internalPort: 80, suggestedExternalPort: 8080, lifetimeS: 3600 })), hex('00 02 0000 0050 1f90 00000e10'));
});

test('a deletion (lifetime 0) sends suggested external port 0 whatever was given (§3.4)', () => {
  assert.deepEqual(Buffer.from(encodeNatPmpMapRequest({ protocol: 'udp', internalPort: 5060, suggestedExternalPort: 40000, lifetimeS: 0 })), hex('00 01 0000 13c4 0000 00000000'));
});

test('map response: opcode 128 + op, internal port, mapped external port, granted lifetime', () => {
  assert.deepEqual(decodeNatPmpResponse(hex('00 81 0000 0000012c 13c4 9c40 00000e10')), {
    version: 0, opcode: 129, resultCode: 0, epochS: 300, kind: 'map', protocol: 'udp', internalPort: 5060, externalPort: 40000, lifetimeS: 3600,
  });
  const tcp = decodeNatPmpResponse(hex('00 82 0000 0000012c 0050 1f90 00000e10'));
  assert.equal(tcp.kind === 'map' && tcp.protocol, 'tcp');
});

test('a non-zero result needs only the 8-byte header', () => {
  assert.deepEqual(decodeNatPmpResponse(hex('00 81 0002 0000012c')), { version: 0, opcode: 129, resultCode: 2, epochS: 300, kind: 'error' });
  assert.equal(decodeNatPmpResponse(hex('00 81 0001 00000000 0000 0000 00000000')).resultCode, 1);
});

test('short successes, requests, other versions and unknown opcodes are malformed', () => {
  assert.equal(code(() => decodeNatPmpResponse(hex('00 80 0000 0000012c'))), 'malformed');
  assert.equal(code(() => decodeNatPmpResponse(hex('00 81 0000 0000012c 13c4 9c40'))), 'malformed');
  assert.equal(code(() => decodeNatPmpResponse(hex('00 01 0000 13c4 13c4 00001c20'))), 'malformed');
  assert.equal(code(() => decodeNatPmpResponse(hex('02 81 0000 0000012c 13c4 9c40 00000e10'))), 'malformed');
  assert.equal(code(() => decodeNatPmpResponse(hex('00 85 0000 0000012c 13c4 9c40 00000e10'))), 'malformed');
  assert.equal(code(() => decodeNatPmpResponse(hex('00 80 00'))), 'malformed');
});

test('the encoder refuses ports and lifetimes out of range', () => {
  assert.equal(code(() => encodeNatPmpMapRequest({ protocol: 'udp', internalPort: 0, suggestedExternalPort: 0, lifetimeS: 1 })), 'malformed');
  assert.equal(code(() => encodeNatPmpMapRequest({ protocol: 'udp', internalPort: 1, suggestedExternalPort: 70000, lifetimeS: 1 })), 'malformed');
  assert.equal(code(() => encodeNatPmpMapRequest({ protocol: 'udp', internalPort: 1, suggestedExternalPort: 0, lifetimeS: -1 })), 'malformed');
});
