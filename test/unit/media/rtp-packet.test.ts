// RTP packets (RFC 3550 §5.1, §5.3.1) from hand-built byte vectors laid out as in the RFC's
// header diagram, hostile inputs, and a fuzz property: every datagram decodes or yields RtpError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RtpError, decodeRtp, encodeRtp, isRtcp, type RtpPacket } from '../../../src/media/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function decoded(bytes: Uint8Array): RtpPacket {
  const p = decodeRtp(bytes);
  if (p instanceof RtpError) assert.fail(`expected a packet, got ${p.code}: ${p.message}`);
  return p;
}

function rejected(bytes: Uint8Array): string {
  const p = decodeRtp(bytes);
  assert.ok(p instanceof RtpError, 'expected an RtpError');
  return p.code;
}

test('decodes the fixed header: version 2, no marker, PCMU, sequence, timestamp, SSRC', () => {
  //        V=2 PT=0  seq=1 | timestamp=160 | SSRC        | payload
  const p = decoded(hex('80 00 0001 000000a0 deadbeef 010203'));
  assert.equal(p.marker, false);
  assert.equal(p.payloadType, 0);
  assert.equal(p.sequenceNumber, 1);
  assert.equal(p.timestamp, 160);
  assert.equal(p.ssrc, 0xdeadbeef);
  assert.deepEqual(p.csrcs, []);
  assert.equal(p.extension, undefined);
  assert.equal(p.paddingBytes, 0);
  assert.deepEqual([...p.payload], [1, 2, 3]);
});

test('decodes the marker bit apart from the payload type, and the top of every field range', () => {
  const p = decoded(hex('80 ff ffff ffffffff ffffffff 00'));
  assert.equal(p.marker, true);
  assert.equal(p.payloadType, 127);
  assert.equal(p.sequenceNumber, 65535);
  assert.equal(p.timestamp, 0xffffffff);
  assert.equal(p.ssrc, 0xffffffff);
  assert.equal(decoded(hex('80 88 0000 00000000 00000001')).payloadType, 8);
});

test('decodes the CSRC list given by CC and starts the payload after it', () => {
  const p = decoded(hex('82 08 1234 00000000 00000001 0000000a 0000000b ff'));
  assert.deepEqual(p.csrcs, [10, 11]);
  assert.deepEqual([...p.payload], [0xff]);
});

test('skips the header extension by its length in 32-bit words and exposes its profile and data', () => {
  // X=1; extension: profile 0xBEDE (RFC 8285 one-byte), length 2 words, then 8 data bytes.
  const p = decoded(hex('90 00 0001 00000000 00000001 bede 0002 1122334455667788 aabb'));
  assert.equal(p.extension?.profile, 0xbede);
  assert.deepEqual([...(p.extension?.data ?? [])], [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
  assert.deepEqual([...p.payload], [0xaa, 0xbb]);
});

test('an empty header extension (length 0) is valid and takes 4 bytes', () => {
  const p = decoded(hex('90 00 0001 00000000 00000001 1000 0000 cc'));
  assert.equal(p.extension?.data.length, 0);
  assert.deepEqual([...p.payload], [0xcc]);
});

test('strips padding whose last octet counts itself, after CSRCs and extension', () => {
  const p = decoded(hex('b1 80 0002 00000010 00000001 00000009 abcd 0001 01020304 6162 000003'));
  assert.equal(p.marker, true);
  assert.deepEqual(p.csrcs, [9]);
  assert.equal(p.extension?.profile, 0xabcd);
  assert.equal(p.paddingBytes, 3);
  assert.deepEqual([...p.payload], [0x61, 0x62]);
});

test('padding may take every byte after the header, leaving an empty payload', () => {
  const p = decoded(hex('a0 00 0001 00000000 00000001 00000004'));
  assert.equal(p.payload.length, 0);
  assert.equal(p.paddingBytes, 4);
});

test('rejects datagrams shorter than the 12-byte fixed header', () => {
  assert.equal(rejected(new Uint8Array(0)), 'too-short');
  assert.equal(rejected(hex('80 00 0001 000000a0 deadbe')), 'too-short');
});

test('rejects every version other than 2', () => {
  for (const b0 of [0x00, 0x40, 0xc0]) assert.equal(rejected(hex(`${b0.toString(16).padStart(2, '0')} 00 0001 00000000 00000001`)), 'bad-version');
});

test('rejects a CSRC count that runs past the end', () => {
  assert.equal(rejected(hex('8f 00 0001 00000000 00000001 00000002')), 'truncated-csrc');
});

test('rejects a header extension that is cut short or claims more words than the packet holds', () => {
  assert.equal(rejected(hex('90 00 0001 00000000 00000001 bede')), 'truncated-extension');
  assert.equal(rejected(hex('90 00 0001 00000000 00000001 bede ffff 00000000')), 'truncated-extension');
});

test('rejects padding of zero, padding longer than what follows the header, and P without room for a count', () => {
  assert.equal(rejected(hex('a0 00 0001 00000000 00000001 aa00')), 'bad-padding');
  assert.equal(rejected(hex('a0 00 0001 00000000 00000001 aa03')), 'bad-padding');
  assert.equal(rejected(hex('a0 00 0001 00000000 00000001')), 'bad-padding');
  // The count may not reach back into the extension.
  assert.equal(rejected(hex('b0 00 0001 00000000 00000001 bede 0001 00000000 0006')), 'bad-padding');
});

test('decodes a packet that sits at an offset inside a larger buffer without reading outside it', () => {
  const whole = hex('ffff 80 00 0007 00000000 00000001 4142 ffff');
  const p = decoded(whole.subarray(2, whole.length - 2));
  assert.equal(p.sequenceNumber, 7);
  assert.deepEqual([...p.payload], [0x41, 0x42]);
});

test('encodes every field to the RFC 3550 layout, byte for byte', () => {
  const bytes = encodeRtp({
    marker: true, payloadType: 8, sequenceNumber: 0x1234, timestamp: 0x89abcdef, ssrc: 0x01020304,
    csrcs: [0x0a0b0c0d], extension: { profile: 0xbede, data: hex('11223344') }, payload: hex('5566'), paddingBytes: 2,
  });
  assert.deepEqual(Buffer.from(bytes).toString('hex'), 'b188123489abcdef010203040a0b0c0dbede0001112233445566' + '0002');
});

test('encode then decode returns the same header and payload', () => {
  const init = { marker: false, payloadType: 0, sequenceNumber: 65535, timestamp: 0, ssrc: 42, csrcs: [1, 2, 3], payload: new Uint8Array(160).fill(0xff) };
  const p = decoded(encodeRtp(init));
  assert.deepEqual({ ...p, payload: [...p.payload] }, { ...init, payload: [...init.payload], paddingBytes: 0 });
});

test('refuses to encode fields outside their wire ranges, with RtpError invalid-field', () => {
  const base = { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: new Uint8Array(0) };
  for (const bad of [{ payloadType: 128 }, { sequenceNumber: 65536 }, { timestamp: -1 }, { ssrc: 2 ** 32 }, { sequenceNumber: 1.5 }, { paddingBytes: 256 }]) {
    assert.throws(() => encodeRtp({ ...base, ...bad }), (e: unknown) => e instanceof RtpError && e.code === 'invalid-field', JSON.stringify(bad));
  }
  assert.throws(() => encodeRtp({ ...base, csrcs: new Array<number>(16).fill(0) }), RtpError);
  assert.throws(() => encodeRtp({ ...base, extension: { profile: 1, data: new Uint8Array(3) } }), RtpError);
});

test('isRtcp tells rtcp-mux packets (second octet 192..223) from RTP', () => {
  assert.equal(isRtcp(hex('80c8 0006')), true); // SR, 200
  assert.equal(isRtcp(hex('81c9 0007')), true); // RR, 201
  assert.equal(isRtcp(hex('80c0')), true);
  assert.equal(isRtcp(hex('80df')), true);
  assert.equal(isRtcp(hex('80bf')), false); // marker + PT 63
  assert.equal(isRtcp(hex('80e0')), false); // marker + PT 96
  assert.equal(isRtcp(hex('8000')), false); // PCMU
  assert.equal(isRtcp(hex('8008')), false); // PCMA
  assert.equal(isRtcp(hex('80')), false);
  assert.equal(isRtcp(new Uint8Array(0)), false);
});

test('arbitrary datagrams either decode and re-encode to the same packet, or yield RtpError; nothing throws', () => {
  const rtpish = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 80 })).map(([b0, rest]) => Uint8Array.from([(b0 & 0x3f) | 0x80, ...rest]));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), rtpish), (bytes) => {
      const p = decodeRtp(bytes);
      if (p instanceof RtpError) return;
      assert.ok(p.payload.length + p.paddingBytes <= bytes.length);
      const again = decoded(encodeRtp(p));
      assert.deepEqual({ ...again, payload: [...again.payload], extension: again.extension && [...again.extension.data] },
        { ...p, payload: [...p.payload], extension: p.extension && [...p.extension.data] });
    }),
    { seed: 3550, numRuns: 5000 },
  );
});
