import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMediaAddress } from '../../../src/sdp/index.js';
import { throwsSdp } from './helpers.js';

test('unicast IPv4, IPv6 and IPv4-mapped addresses are peers to send to', () => {
  assert.equal(checkMediaAddress('192.0.2.1', 5004), 'unicast');
  assert.equal(checkMediaAddress('127.0.0.1', 1024), 'unicast');
  assert.equal(checkMediaAddress('223.255.255.255', 65535), 'unicast');
  assert.equal(checkMediaAddress('2001:db8::1', 5004), 'unicast');
  assert.equal(checkMediaAddress('2001:DB8:0:0:0:0:0:1', 5004), 'unicast');
  assert.equal(checkMediaAddress('::ffff:192.0.2.1', 5004), 'unicast');
  assert.equal(checkMediaAddress('1:2:3:4:5:6:192.0.2.1', 5004), 'unicast');
});

test('the unspecified address is RFC 3264 §8.4 hold, in either family', () => {
  assert.equal(checkMediaAddress('0.0.0.0', 5004), 'hold');
  assert.equal(checkMediaAddress('::', 5004), 'hold');
});

test('port 0 is a disabled stream, whatever the address', () => {
  assert.equal(checkMediaAddress('192.0.2.1', 0), 'disabled');
  assert.equal(checkMediaAddress('host.example.com', 0), 'disabled');
});

test('multicast is refused: 224.0.0.0/4, ff00::/8, mapped and with a TTL suffix', () => {
  for (const addr of ['224.0.0.1', '239.255.255.255', '224.2.17.12/127', 'ff02::1', 'FF0E::101', '::ffff:239.1.1.1']) {
    throwsSdp(() => checkMediaAddress(addr, 5004), 'multicast');
  }
});

test('the broadcast address is refused', () => {
  throwsSdp(() => checkMediaAddress('255.255.255.255', 5004), 'broadcast');
  throwsSdp(() => checkMediaAddress('::ffff:255.255.255.255', 5004), 'broadcast');
});

test('ports 1..1023 are refused unless low ports are allowed; out-of-range ports always', () => {
  throwsSdp(() => checkMediaAddress('192.0.2.1', 80), 'bad-port');
  throwsSdp(() => checkMediaAddress('192.0.2.1', 1023), 'bad-port');
  assert.equal(checkMediaAddress('192.0.2.1', 80, { allowLowPorts: true }), 'unicast');
  for (const port of [65536, -1, 5004.5, Number.NaN]) {
    throwsSdp(() => checkMediaAddress('192.0.2.1', port, { allowLowPorts: true }), 'bad-port');
  }
});

test('anything but an IP literal is refused: names, zone ids, octal-looking and malformed forms', () => {
  for (const addr of ['host.example.com', '', '192.0.2.1/127', '010.0.0.1', '256.1.1.1', '1.2.3', '1::2::3', 'fe80::1%eth0',
    '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':1::', '12345::1', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4']) {
    throwsSdp(() => checkMediaAddress(addr, 5004), 'bad-connection');
  }
});
