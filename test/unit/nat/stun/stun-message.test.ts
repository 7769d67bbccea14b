// STUN message codec (RFC 8489 §5, §14; RFC 5780 §7): header bits, every typed attribute, padding,
// the demux check, and hostile input that must end in a StunError, never another throw or an over-read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  STUN_ATTR, StunError, decodeStunMessage, encodeStunMessage, getAttribute, getRawAttribute, isStun, messageType,
  splitMessageType, unknownComprehensionRequired, type StunAttribute, type StunMessage,
} from '../../../../src/nat/stun/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const TID = hex('b7e7a701bc34d686fa87dfae');
const binding = (attributes: StunAttribute[], cls: StunMessage['class'] = 'success'): StunMessage => ({
  method: 0x001, class: cls, transactionId: TID, attributes,
});

function rejects(bytes: Uint8Array): string {
  try {
    decodeStunMessage(bytes);
  } catch (err) {
    assert.ok(err instanceof StunError, `expected a StunError, got ${String(err)}`);
    return err.code;
  }
  return assert.fail('expected the decoder to reject the message');
}

test('message type interleaves the class bits C1 C0 (0x100, 0x010) with the 12 method bits', () => {
  assert.equal(messageType(0x001, 'request'), 0x0001);
  assert.equal(messageType(0x001, 'indication'), 0x0011);
  assert.equal(messageType(0x001, 'success'), 0x0101);
  assert.equal(messageType(0x001, 'error'), 0x0111);
  assert.equal(messageType(0x003, 'request'), 0x0003); // TURN Allocate
  assert.equal(messageType(0x007, 'indication'), 0x0017); // TURN Data indication
  assert.equal(messageType(0xfff, 'error'), 0x3fff);
  for (const method of [0x000, 0x001, 0x00f, 0x010, 0x070, 0x080, 0xf80, 0xabc, 0xfff]) {
    for (const cls of ['request', 'indication', 'success', 'error'] as const) {
      assert.deepEqual(splitMessageType(messageType(method, cls)), { method, class: cls });
    }
  }
});

test('encodes the header: type, length of the attributes, magic cookie, transaction id', () => {
  const bytes = encodeStunMessage(binding([{ kind: 'software', value: 'abc' }], 'request'));
  assert.equal(bytes.toString('hex'), `0001 0008 2112a442 ${TID.toString('hex')} 8022 0003 61626300`.replace(/ /g, ''));
});

test('every typed attribute survives encode then decode', () => {
  const attributes: StunAttribute[] = [
    { kind: 'mapped-address', address: { family: 'IPv4', address: '192.0.2.1', port: 32853 } },
    { kind: 'xor-mapped-address', address: { family: 'IPv6', address: '2001:db8::1', port: 5060 } },
    { kind: 'username', value: 'evtj:h6vY' },
    { kind: 'error-code', code: 420, reason: 'Unknown Attribute' },
    { kind: 'unknown-attributes', types: [0x7777, 0x0024, 0x0025] },
    { kind: 'realm', value: 'example.org' },
    { kind: 'nonce', value: 'f//499k954d6OL34oL9FSTvy64sA' },
    { kind: 'software', value: 'deskphone ☎' },
    { kind: 'alternate-server', address: { family: 'IPv4', address: '203.0.113.9', port: 3478 } },
    { kind: 'change-request', changeIp: true, changePort: false },
    { kind: 'response-origin', address: { family: 'IPv4', address: '127.0.0.1', port: 3478 } },
    { kind: 'other-address', address: { family: 'IPv4', address: '127.0.0.2', port: 3479 } },
    { kind: 'changed-address', address: { family: 'IPv6', address: '::ffff:10.0.0.1', port: 1 } },
    { kind: 'source-address', address: { family: 'IPv6', address: 'fe80::1:0:0:2', port: 65535 } },
    { kind: 'response-port', port: 40000 },
    { kind: 'padding', length: 5 },
    { kind: 'raw', type: 0x0024, value: Uint8Array.from(hex('6e0001ff')) },
    { kind: 'message-integrity', hmac: new Uint8Array(20).fill(7) },
    { kind: 'fingerprint', crc32: 0xdeadbeef },
  ];
  const bytes = encodeStunMessage(binding(attributes));
  const m = decodeStunMessage(bytes);
  assert.equal(m.method, 1);
  assert.equal(m.class, 'success');
  assert.deepEqual([...m.transactionId], [...TID]);
  assert.deepEqual(m.attributes, attributes);
  assert.deepEqual(encodeStunMessage(m), bytes);
});

test('XOR-MAPPED-ADDRESS is XORed with the cookie (IPv4) and with cookie + transaction id (IPv6)', () => {
  // RFC 5769 §2.2 and §2.3 values.
  const v4 = encodeStunMessage(binding([{ kind: 'xor-mapped-address', address: { family: 'IPv4', address: '192.0.2.1', port: 32853 } }]));
  assert.equal(v4.subarray(20).toString('hex'), '002000080001a147e112a643');
  const v6 = encodeStunMessage(binding([
    { kind: 'xor-mapped-address', address: { family: 'IPv6', address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 } },
  ]));
  assert.equal(v6.subarray(20).toString('hex'), '002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9');
});

test('IPv6 addresses decode to RFC 5952 text: longest zero run compressed, IPv4-mapped dotted', () => {
  const round = (address: string): string => {
    const m = decodeStunMessage(encodeStunMessage(binding([{ kind: 'mapped-address', address: { family: 'IPv6', address, port: 1 } }])));
    return getAttribute(m, 'mapped-address')?.address.address ?? '';
  };
  assert.equal(round('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(round('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(round('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
  assert.equal(round('::'), '::');
  assert.equal(round('::1'), '::1');
  assert.equal(round('1::'), '1::');
  assert.equal(round('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2:3:4:5:6');
  assert.equal(round('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
  assert.equal(round('fe80::1%eth0'), 'fe80::1');
});

test('values are padded to 4 bytes; the padding is neither part of the value nor checked', () => {
  const bytes = encodeStunMessage(binding([{ kind: 'username', value: 'abcde' }, { kind: 'realm', value: 'r' }]));
  assert.equal(bytes.subarray(20).toString('hex'), '000600056162636465000000' + '0014000172000000');
  const dirty = Buffer.from(bytes);
  dirty.fill(0xff, 29, 32);
  dirty.fill(0x20, 37, 40);
  const m = decodeStunMessage(dirty);
  assert.equal(getAttribute(m, 'username')?.value, 'abcde');
  assert.equal(getAttribute(m, 'realm')?.value, 'r');
  assert.equal(encodeStunMessage(binding([{ kind: 'realm', value: 'r' }]), { padByte: 0x20 }).subarray(20).toString('hex'), '0014000172202020');
});

test('unknown attributes are kept raw; only unknown comprehension-required types are reported', () => {
  const m = decodeStunMessage(encodeStunMessage(binding([
    { kind: 'raw', type: 0x0024, value: hex('6e0001ff') },
    { kind: 'raw', type: 0x8029, value: hex('932ff9b151263b36') },
    { kind: 'raw', type: 0x7777, value: hex('01') },
    { kind: 'raw', type: 0x7777, value: hex('02') },
  ])));
  assert.deepEqual([...(getRawAttribute(m, 0x0024) ?? [])], [0x6e, 0x00, 0x01, 0xff]);
  assert.deepEqual([...(getRawAttribute(m, 0x8029) ?? [])], [...hex('932ff9b151263b36')]);
  assert.deepEqual([...(getRawAttribute(m, 0x7777) ?? [])], [1], 'the first of duplicates');
  assert.deepEqual(unknownComprehensionRequired(m), [0x0024, 0x7777]);
  assert.deepEqual(unknownComprehensionRequired(m, [0x0024]), [0x7777]);
});

test('attributes after MESSAGE-INTEGRITY are ignored except FINGERPRINT; nothing may follow FINGERPRINT', () => {
  const mi = { kind: 'message-integrity', hmac: new Uint8Array(20) } as const;
  const m = decodeStunMessage(encodeStunMessage(binding([
    { kind: 'software', value: 'before' }, mi, { kind: 'realm', value: 'ignored' },
    { kind: 'message-integrity-sha256', hmac: new Uint8Array(32) }, { kind: 'fingerprint', crc32: 1 },
  ])));
  assert.deepEqual(m.attributes.map((a) => a.kind), ['software', 'message-integrity', 'message-integrity-sha256', 'fingerprint']);
  assert.deepEqual(m.offsets, [20, 32, 68, 104], 'REALM at 56 is skipped');
  const late = encodeStunMessage(binding([{ kind: 'fingerprint', crc32: 1 }, { kind: 'software', value: 'late' }]));
  assert.equal(rejects(late), 'bad-attribute');
});

test('decoding a node Buffer leaves its bytes untouched (XOR works on a copy)', () => {
  const bytes = encodeStunMessage(binding([{ kind: 'xor-mapped-address', address: { family: 'IPv6', address: '2001:db8::1', port: 9 } }]));
  const before = Buffer.from(bytes);
  const m = decodeStunMessage(bytes);
  assert.equal(getAttribute(m, 'xor-mapped-address')?.address.address, '2001:db8::1');
  decodeStunMessage(bytes);
  assert.deepEqual(bytes, before);
});

test('isStun tells STUN from SIP, RTP and RTCP on a shared socket', () => {
  const stun = encodeStunMessage(binding([{ kind: 'software', value: 'x' }], 'request'));
  assert.equal(isStun(stun), true);
  assert.equal(isStun(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n')), false);
  assert.equal(isStun(hex('80 00 0001 000000a0 deadbeef 2112a442 00000000')), false, 'RTP');
  assert.equal(isStun(hex('81c8 0006 deadbeef 2112a442 0000000000000000')), false, 'RTCP');
  const noCookie = Buffer.from(stun);
  noCookie[4] = 0;
  assert.equal(isStun(noCookie), false);
  assert.equal(isStun(stun.subarray(0, stun.length - 4)), false, 'length field does not match the datagram');
  assert.equal(isStun(stun.subarray(0, 19)), false);
});

test('hostile headers: short, top bits set, no cookie, odd or wrong length, over the size limit', () => {
  const ok = encodeStunMessage(binding([{ kind: 'software', value: 'abcd' }]));
  assert.equal(rejects(ok.subarray(0, 19)), 'truncated');
  assert.equal(rejects(new Uint8Array(0)), 'truncated');
  const top = Buffer.from(ok);
  top[0] = 0x41;
  assert.equal(rejects(top), 'not-stun');
  const cookie = Buffer.from(ok);
  cookie[7] = 0x43;
  assert.equal(rejects(cookie), 'not-stun');
  const odd = Buffer.from(ok);
  odd.writeUInt16BE(6, 2);
  assert.equal(rejects(odd), 'bad-length');
  assert.equal(rejects(Buffer.concat([ok, Buffer.alloc(4)])), 'bad-length', 'trailing bytes');
  assert.equal(rejects(ok.subarray(0, ok.length - 4)), 'bad-length', 'cut datagram');
  assert.throws(() => decodeStunMessage(ok, { maxBytes: ok.length - 1 }), (e: unknown) => e instanceof StunError && e.code === 'too-large');
  assert.equal(decodeStunMessage(ok, { maxBytes: ok.length }).attributes.length, 1);
});

test('hostile attributes: running past the end, bad family or length, bad UTF-8, bad error class', () => {
  const msg = (attrs: string): Buffer => {
    const body = hex(attrs);
    return Buffer.concat([hex(`0101 ${body.length.toString(16).padStart(4, '0')} 2112a442`), TID, body]);
  };
  assert.equal(rejects(msg('8022 0009 6162636465666768')), 'truncated', 'value longer than the message');
  assert.equal(rejects(msg('8022 0005 61626364')), 'truncated', 'padding missing');
  assert.equal(rejects(msg('0001 0008 0003 0001 7f000001')), 'bad-attribute', 'family 3');
  assert.equal(rejects(msg('0001 0008 0002 0001 7f000001')), 'bad-attribute', 'IPv6 in 8 bytes');
  assert.equal(rejects(msg('0020 0014 0001 0001 7f000001 0000000000000000 00000000')), 'bad-attribute', 'IPv4 in 20 bytes');
  assert.equal(rejects(msg('0001 0000')), 'bad-attribute', 'empty address');
  assert.equal(rejects(msg('0006 0002 c328 0000')), 'bad-attribute', 'invalid UTF-8 in USERNAME');
  assert.equal(rejects(msg('0009 0004 0000 0714')), 'bad-attribute', 'error class 7');
  assert.equal(rejects(msg('0009 0004 0000 0464')), 'bad-attribute', 'error number 100');
  assert.equal(rejects(msg('000a 0003 777700 00')), 'bad-attribute', 'odd UNKNOWN-ATTRIBUTES');
  assert.equal(rejects(msg('0008 0010 00000000000000000000000000000000')), 'bad-attribute', 'short MESSAGE-INTEGRITY');
  assert.equal(rejects(msg('001c 000c 000000000000000000000000')), 'bad-attribute', 'MESSAGE-INTEGRITY-SHA256 under 16 bytes');
  assert.equal(rejects(msg('8028 0002 0000 0000')), 'bad-attribute', 'short FINGERPRINT');
  assert.equal(rejects(msg('0003 0002 0006 0000')), 'bad-attribute', 'short CHANGE-REQUEST');
  assert.equal(rejects(msg(`0006 0204 ${'61'.repeat(516)}`)), 'bad-attribute', 'USERNAME over 513 bytes');
  assert.equal(getAttribute(decodeStunMessage(msg('0027 0002 1f40 0000')), 'response-port')?.port, 8000, 'bare 2-byte RESPONSE-PORT');
});

test('the encoder refuses values the wire cannot carry, with a StunError', () => {
  const code = (m: StunMessage, opts = {}): string => {
    try {
      encodeStunMessage(m, opts);
    } catch (err) {
      assert.ok(err instanceof StunError);
      return err.code;
    }
    return assert.fail('expected a StunError');
  };
  assert.equal(code({ ...binding([]), transactionId: new Uint8Array(16) }), 'bad-value');
  assert.equal(code({ ...binding([]), method: 0x1000 }), 'bad-value');
  assert.equal(code(binding([{ kind: 'mapped-address', address: { family: 'IPv4', address: '300.1.1.1', port: 1 } }])), 'bad-value');
  assert.equal(code(binding([{ kind: 'mapped-address', address: { family: 'IPv4', address: '1.1.1.1', port: 70000 } }])), 'bad-value');
  assert.equal(code(binding([{ kind: 'error-code', code: 200, reason: '' }])), 'bad-value');
  assert.equal(code(binding([{ kind: 'username', value: 'u'.repeat(514) }])), 'bad-value');
  assert.equal(code(binding([{ kind: 'raw', type: 0x10000, value: new Uint8Array(0) }])), 'bad-value');
  assert.equal(code(binding([{ kind: 'padding', length: 40000 }, { kind: 'padding', length: 40000 }])), 'too-large');
  assert.equal(code(binding([{ kind: 'fingerprint', crc32: 0 }]), { fingerprint: true }), 'bad-value', 'a second FINGERPRINT');
});

test('fuzz: any bytes either decode or throw a StunError', () => {
  const valid = encodeStunMessage(binding([
    { kind: 'xor-mapped-address', address: { family: 'IPv6', address: '2001:db8::1', port: 1 } },
    { kind: 'error-code', code: 401, reason: 'Unauthorized' }, { kind: 'unknown-attributes', types: [1, 2] },
    { kind: 'software', value: 'x' },
  ]), { integrity: { key: hex('00') }, fingerprint: true });
  const stunish = fc.uint8Array({ minLength: 0, maxLength: 120 }).map((body) => {
    const b = Buffer.concat([hex('0101 0000 2112a442'), TID, body]);
    b.writeUInt16BE(body.length & 0xfffc, 2);
    return b;
  });
  const mutated = fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })
    .map((edits) => {
      const b = Buffer.from(valid);
      for (const [i, v] of edits) b[i] = v;
      return b;
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }), stunish, mutated), (bytes) => {
      try {
        const m = decodeStunMessage(bytes);
        assert.equal(m.offsets.length, m.attributes.length);
      } catch (err) {
        if (!(err instanceof StunError)) throw err;
      }
    }),
    { seed: 8489, numRuns: 5000 },
  );
});

test('STUN_ATTR names the RFC numbers', () => {
  assert.equal(STUN_ATTR.XOR_MAPPED_ADDRESS, 0x0020);
  assert.equal(STUN_ATTR.OTHER_ADDRESS, 0x802c);
  assert.equal(STUN_ATTR.RESPONSE_ORIGIN, 0x802b);
  assert.equal(STUN_ATTR.FINGERPRINT, 0x8028);
});
