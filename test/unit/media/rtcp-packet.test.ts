// RTCP compound packets (RFC 3550 §6.4–§6.6, validity per A.2) from hand-built byte vectors
// laid out as in the RFC's diagrams, the builders checked against the same bytes, hostile input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RtcpError, buildRtcpBye, buildRtcpReport, encodeRtcp, parseRtcp, type RtcpPacket } from '../../../src/media/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// SR, RC=1, length 12 words: SSRC, NTP (2 words), RTP timestamp, packet count, octet count, one report block.
const SR = `81 c8 000c 01020304 e8f1a2b3 80000000 000000a0 00000005 00000320
            0a0b0c0d 40000005 00010010 00000020 a2b38000 00010000`;
// SDES, SC=1, length 3: SSRC, CNAME item (type 1, length 5, "alice"), null item; 12 bytes, already aligned.
const SDES = '81 ca 0003 01020304 01 05 616c696365 00';
// RR, RC=0, length 1.
const RR_EMPTY = '80 c9 0001 01020304';
// BYE, SC=1, length 3: SSRC, reason length 4, "done", 3 zero bytes of padding to the word.
const BYE = '81 cb 0003 01020304 04 646f6e65 000000';

function parsed(bytes: Uint8Array): RtcpPacket[] {
  const r = parseRtcp(bytes);
  if (r instanceof RtcpError) assert.fail(`expected packets, got ${r.code}: ${r.message}`);
  return r;
}

function rejected(bytes: Uint8Array): string {
  const r = parseRtcp(bytes);
  assert.ok(r instanceof RtcpError, 'expected an RtcpError');
  return r.code;
}

const REPORT = { ssrc: 0x0a0b0c0d, fractionLost: 0x40, cumulativeLost: 5, extendedHighestSeq: 0x10010, jitter: 32, lastSr: 0xa2b38000, delaySinceLastSr: 0x10000 };
const SENDER = { ntpSeconds: 0xe8f1a2b3, ntpFraction: 0x80000000, rtpTimestamp: 160, packetCount: 5, octetCount: 800 };

test('parses an SR with a report block followed by an SDES CNAME', () => {
  assert.deepEqual(parsed(hex(SR + SDES)), [
    { type: 'sr', ssrc: 0x01020304, sender: SENDER, reports: [REPORT] },
    { type: 'sdes', chunks: [{ ssrc: 0x01020304, cname: 'alice' }] },
  ]);
});

test('reads the cumulative-lost field as signed 24 bits', () => {
  const [rr] = parsed(hex('81 c9 0007 01020304 0a0b0c0d fffffffe 00000000 00000000 00000000 00000000'));
  assert.ok(rr?.type === 'rr');
  assert.equal(rr.reports[0]?.cumulativeLost, -2);
  assert.equal(rr.reports[0]?.fractionLost, 255);
});

test('parses RR, SDES and BYE with a reason', () => {
  assert.deepEqual(parsed(hex(RR_EMPTY + SDES + BYE)), [
    { type: 'rr', ssrc: 0x01020304, reports: [] },
    { type: 'sdes', chunks: [{ ssrc: 0x01020304, cname: 'alice' }] },
    { type: 'bye', ssrcs: [0x01020304], reason: 'done' },
  ]);
});

test('strips padding on the last packet of the compound', () => {
  const [, bye] = parsed(hex(RR_EMPTY + 'a1 cb 0002 01020304 00000004'));
  assert.deepEqual(bye, { type: 'bye', ssrcs: [0x01020304] });
});

test('finds the CNAME among other SDES items and chunks, and skips SR profile extensions', () => {
  // SDES SC=2: chunk 1 has NAME "Al" then CNAME "a@h"; chunk 2 has only a NOTE.
  const sdes = '82 ca 0006 00000001 02 02 416c 01 03 614068 00 0000 00000002 07 01 78 00';
  const withExt = '80 c8 0007 01020304 00000000 00000000 00000000 00000000 00000000 deadbeef';
  assert.deepEqual(parsed(hex(withExt + sdes)), [
    { type: 'sr', ssrc: 0x01020304, sender: { ntpSeconds: 0, ntpFraction: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0 }, reports: [] },
    { type: 'sdes', chunks: [{ ssrc: 1, cname: 'a@h' }, { ssrc: 2 }] },
  ]);
});

test('keeps packet types it does not interpret (APP) whole', () => {
  const [, app] = parsed(hex(RR_EMPTY + '85 cc 0002 01020304 74657374'));
  assert.ok(app?.type === 'other');
  assert.equal(app.packetType, 204);
  assert.equal(app.count, 5);
  assert.equal(toHex(app.body), '0102030474657374');
});

test('buildRtcpReport with sender info writes SR + SDES CNAME byte for byte', () => {
  assert.equal(toHex(buildRtcpReport({ ssrc: 0x01020304, cname: 'alice', sender: SENDER, reports: [REPORT] })), toHex(hex(SR + SDES)));
});

test('buildRtcpReport without sender info writes RR + SDES CNAME', () => {
  assert.equal(toHex(buildRtcpReport({ ssrc: 0x01020304, cname: 'alice' })), toHex(hex(RR_EMPTY + SDES)));
});

test('buildRtcpBye writes RR, SDES and BYE with the reason padded to a word', () => {
  assert.equal(toHex(buildRtcpBye({ ssrc: 0x01020304, cname: 'alice', reason: 'done' })), toHex(hex(RR_EMPTY + SDES + BYE)));
  assert.deepEqual(parsed(buildRtcpBye({ ssrc: 7, cname: 'x' }))[2], { type: 'bye', ssrcs: [7] });
});

test('an SDES CNAME whose item ends on a word boundary still gets a full null word', () => {
  // 4 (SSRC) + 2 + 2 ("ab") = 8: the null item needs a new word.
  const bytes = encodeRtcp([{ type: 'rr', ssrc: 1, reports: [] }, { type: 'sdes', chunks: [{ ssrc: 1, cname: 'ab' }] }]);
  assert.equal(toHex(bytes.subarray(8)), toHex(hex('81 ca 0003 00000001 01 02 6162 00000000')));
  assert.deepEqual(parsed(bytes)[1], { type: 'sdes', chunks: [{ ssrc: 1, cname: 'ab' }] });
});

test('rejects empty, wrong-version, overlong, stray-byte and non-compound datagrams', () => {
  assert.equal(rejected(new Uint8Array(0)), 'too-short');
  assert.equal(rejected(hex('40 c9 0001 01020304')), 'bad-version');
  assert.equal(rejected(hex('80 c9 0002 01020304')), 'bad-length');
  assert.equal(rejected(hex(RR_EMPTY + '8000')), 'too-short');
  assert.equal(rejected(hex(SDES)), 'not-compound');
  assert.equal(rejected(hex(BYE)), 'not-compound');
  assert.equal(rejected(hex(RR_EMPTY + '80 c9 0001 010203')), 'bad-length');
});

test('rejects report counts that do not fit the packet length', () => {
  assert.equal(rejected(hex('82 c9 0007 01020304' + '00'.repeat(24))), 'bad-length');
  assert.equal(rejected(hex('81 c8 0006 01020304' + '00'.repeat(20))), 'bad-length');
});

test('rejects padding on a packet that is not the last, and padding counts of 0 or past the body', () => {
  assert.equal(rejected(hex('a0 c9 0001 01020304' + RR_EMPTY)), 'bad-padding');
  assert.equal(rejected(hex(RR_EMPTY + 'a1 cb 0001 01020300')), 'bad-padding');
  assert.equal(rejected(hex(RR_EMPTY + 'a1 cb 0001 01020309')), 'bad-padding');
});

test('rejects SDES items that overrun, chunks without a null item, and BYEs that overrun', () => {
  assert.equal(rejected(hex(RR_EMPTY + '81 ca 0002 00000001 01 09 6162')), 'bad-sdes');
  assert.equal(rejected(hex(RR_EMPTY + '81 ca 0002 00000001 01 02 6162')), 'bad-sdes');
  assert.equal(rejected(hex(RR_EMPTY + '82 ca 0002 00000001 00 000000')), 'bad-sdes');
  assert.equal(rejected(hex(RR_EMPTY + '83 cb 0002 00000001 00000002')), 'bad-bye');
  assert.equal(rejected(hex(RR_EMPTY + '81 cb 0002 00000001 09 616263')), 'bad-bye');
});

test('refuses to encode values that do not fit their fields', () => {
  const isInvalid = (e: unknown): boolean => e instanceof RtcpError && e.code === 'invalid-field';
  assert.throws(() => encodeRtcp([{ type: 'rr', ssrc: -1, reports: [] }]), isInvalid);
  assert.throws(() => encodeRtcp([{ type: 'rr', ssrc: 1, reports: [{ ...REPORT, cumulativeLost: 0x800000 }] }]), isInvalid);
  assert.throws(() => encodeRtcp([{ type: 'rr', ssrc: 1, reports: new Array(32).fill(REPORT) }]), isInvalid);
  assert.throws(() => encodeRtcp([{ type: 'sdes', chunks: [{ ssrc: 1, cname: 'x'.repeat(256) }] }]), isInvalid);
});

test('mutated and random datagrams parse or yield RtcpError; nothing throws', () => {
  const seed = hex(SR + SDES + BYE);
  const mutated = fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).chain((muts) =>
    fc.nat(seed.length).map((cut) => {
      const b = Uint8Array.from(seed);
      for (const [i, v] of muts) b[i] = v;
      return b.subarray(0, cut);
    }));
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 96 })), (bytes) => {
      const r = parseRtcp(bytes);
      assert.ok(r instanceof RtcpError || (Array.isArray(r) && r.length > 0));
    }),
    { seed: 3550, numRuns: 5000 },
  );
});
