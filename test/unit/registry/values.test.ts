import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegistryError, isValidHostPort, isValidSipUri, parseText, resolveKey } from '../../../src/registry/index.js';

const spec = (k: string) => resolveKey(k).spec;

test('booleans parse from true/false text and nothing else', () => {
  assert.equal(parseText(spec('nat.upnpEnabled'), 'nat.upnpEnabled', 'true'), true);
  assert.equal(parseText(spec('nat.upnpEnabled'), 'nat.upnpEnabled', 'false'), false);
  assert.throws(() => parseText(spec('nat.upnpEnabled'), 'nat.upnpEnabled', 'maybe'), /invalid value "maybe" for nat.upnpEnabled: expected true or false/);
});

test('integers outside their range are refused naming key, value and range', () => {
  assert.equal(parseText(spec('sip.localPort'), 'sip.localPort', '5070'), 5070);
  assert.throws(
    () => parseText(spec('sip.localPort'), 'sip.localPort', '70000'),
    (err: unknown) => err instanceof RegistryError && err.code === 'invalid-value' && err.key === 'sip.localPort' && /70000/.test(err.message) && /from 1 to 65535/.test(err.message),
  );
  assert.throws(() => parseText(spec('sip.localPort'), 'sip.localPort', '50.5'), /expected an integer/);
  assert.throws(() => parseText(spec('sip.localPort'), 'sip.localPort', '1e3'), /expected an integer/);
});

test('enums list the allowed values in the error', () => {
  assert.equal(parseText(spec('nat.strategy'), 'nat.strategy', 'upnp'), 'upnp');
  assert.throws(() => parseText(spec('nat.strategy'), 'nat.strategy', 'magic'), /one of auto, none, static, upnp, stun, turn, ice/);
});

test('SIP URIs and host:port servers are checked by their grammar', () => {
  for (const ok of ['sip:example.net', 'sip:203.0.113.20:5060', 'sips:pbx.example.com;transport=tcp', 'sip:alice@[2001:db8::1]:5070', 'sip:example.net;lr']) {
    assert.ok(isValidSipUri(ok), ok);
  }
  for (const bad of ['example.net', 'http://x', 'sip:', 'sip:host:99999', 'sip:a b', 'sip:[::zz]']) assert.ok(!isValidSipUri(bad), bad);
  for (const ok of ['stun.example.net:3478', '198.51.100.1:3478', '[2001:db8::2]:3478', 'stun.example.net']) assert.ok(isValidHostPort(ok), ok);
  for (const bad of ['stun.example.net:0', ':3478', 'a b:1', '[::1', 'x:65536']) assert.ok(!isValidHostPort(bad), bad);
});

test('lists parse from comma-separated text and refuse unknown or duplicate items', () => {
  assert.deepEqual(parseText(spec('media.codecs'), 'media.codecs', 'PCMA, PCMU'), ['PCMA', 'PCMU']);
  assert.throws(() => parseText(spec('media.codecs'), 'media.codecs', 'PCMA,GSM'), /unknown item "GSM"/);
  assert.throws(() => parseText(spec('media.codecs'), 'media.codecs', 'PCMA,PCMA'), /duplicate/);
});

test('control characters in text values are refused', () => {
  assert.throws(() => parseText(spec('sip.userAgent'), 'sip.userAgent', 'a\u0000b'), /control characters/);
});

test('the original RTC name EnableEarlyUDPPackets resolves to rtc.enableEarlyUdpPackets', () => {
  assert.equal(resolveKey('EnableEarlyUDPPackets').key, 'rtc.enableEarlyUdpPackets');
  assert.equal(resolveKey('enableearlyudppackets').key, 'rtc.enableEarlyUdpPackets');
  assert.equal(resolveKey('rtc.enableEarlyUdpPackets').spec.default, false);
});

test('account keys resolve per account id and reject bad ids and fields', () => {
  const r = resolveKey('accounts.home.registrar');
  assert.equal(r.accountId, 'home');
  assert.equal(r.spec.type, 'sipUri');
  assert.ok(resolveKey('accounts.home.password').spec.secret);
  assert.throws(() => resolveKey('accounts.Home!.user'), /invalid account id/);
  assert.throws(() => resolveKey('accounts.home.colour'), /unknown account setting "colour"/);
  assert.throws(() => resolveKey('nat.nonsense'), (e: unknown) => e instanceof RegistryError && e.code === 'unknown-key');
});
