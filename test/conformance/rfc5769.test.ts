// RFC 5769 STUN test vectors and RFC 8489 Appendix B.1 (test/conformance/rfc5769, see its INDEX.md):
// decoded fields, MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT verified with the RFC's credentials,
// one flipped bit breaks them, and our encoder reproduces the bytes (padding byte as in the vector).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  StunError, decodeStunMessage, encodeStunMessage, getAttribute, getRawAttribute, longTermKey, shortTermKey, userHash,
  verifyFingerprint, verifyMessageIntegrity, type DecodedStunMessage, type EncodeOptions, type StunMessage,
} from '../../src/nat/stun/index.js';
import { CONFORMANCE, corpus, indexHashes, sha256 } from '../helpers/conformance.js';

interface VectorAttribute { offset: number; type: string; name: string; length: number; value_hex: string; padding_hex: string }
interface Vector { message_type: string; message_length: number; transaction_id: string; total_bytes: number; attributes: VectorAttribute[] }
const VECTORS = (JSON.parse(readFileSync(join(CONFORMANCE, 'rfc5769', 'vectors.json'), 'utf8')) as { vectors: Record<string, Vector> }).vectors;
const FILES = corpus('rfc5769');

const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
const USER_2_4 = '\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9';
const PREPARED_PASSWORD_2_4 = 'TheMatrIX';

function bytes(name: string): Buffer {
  const b = FILES.get(`${name}.bin`);
  assert.ok(b, `${name}.bin in the corpus`);
  return b;
}

/** Decodes a vector and checks header and attribute layout against vectors.json. */
function decodeVector(name: string): DecodedStunMessage {
  const v = VECTORS[name];
  assert.ok(v, name);
  const m = decodeStunMessage(bytes(name));
  assert.equal(m.bytes.length, v.total_bytes);
  assert.equal(Buffer.from(m.bytes).readUInt16BE(0), Number(v.message_type));
  assert.equal(m.bytes.length - 20, v.message_length);
  assert.equal(Buffer.from(m.transactionId).toString('hex'), v.transaction_id);
  assert.equal(m.method, 0x001);
  assert.deepEqual(m.offsets, v.attributes.map((a) => a.offset), `${name}: attribute offsets`);
  for (const [i, a] of v.attributes.entries()) {
    const got = m.attributes[i];
    if (got?.kind === 'raw') {
      assert.equal(got.type, Number(a.type), `${name}: ${a.name}`);
      assert.equal(Buffer.from(got.value).toString('hex'), a.value_hex, `${name}: raw ${a.name} keeps its value without padding`);
    } else {
      assert.equal(got?.kind, a.name.toLowerCase(), `${name}: attribute ${i} decodes as ${a.name}`);
    }
  }
  return m;
}

/** Where the checked attribute's value ends: the bytes a check covers, its own value included. */
function endOf(name: string, attribute: string): number {
  const a = VECTORS[name]?.attributes.find((x) => x.name === attribute);
  assert.ok(a, `${name} has ${attribute}`);
  return a.offset + 4 + a.length;
}

/** Every single-bit change up to the end of `attribute` must make the check fail or the message undecodable. */
function assertOneBitBreaks(name: string, attribute: string, check: (m: DecodedStunMessage) => boolean): void {
  const original = bytes(name);
  const end = endOf(name, attribute);
  for (let i = 0; i < end; i++) {
    for (const bit of [0x01, 0x80]) {
      const b = Buffer.from(original);
      b[i] = (b[i] as number) ^ bit;
      let ok: boolean;
      try {
        ok = check(decodeStunMessage(b));
      } catch (err) {
        assert.ok(err instanceof StunError, `${name}: byte ${i}: ${String(err)}`);
        ok = false;
      }
      assert.equal(ok, false, `${name}: flipping bit ${bit} of byte ${i} went unnoticed`);
    }
  }
}

/** The message without its integrity and fingerprint attributes, to have the encoder recompute them. */
const unsealed = (m: StunMessage): StunMessage => ({
  ...m,
  attributes: m.attributes.filter((a) => a.kind !== 'message-integrity' && a.kind !== 'message-integrity-sha256' && a.kind !== 'fingerprint'),
});

function assertReencodes(name: string, m: DecodedStunMessage, recompute: EncodeOptions, padByte: number): void {
  assert.deepEqual(encodeStunMessage(m, { padByte }), bytes(name), `${name}: decode then encode gives the same bytes`);
  assert.deepEqual(encodeStunMessage(unsealed(m), { ...recompute, padByte }), bytes(name), `${name}: recomputed checks match the RFC's`);
}

test('the corpus is intact (sha256 of every file as listed in INDEX.md) and each .hex matches its .bin', () => {
  const hashes = indexHashes('rfc5769');
  assert.equal(hashes.size, 13);
  for (const [f, hash] of hashes) assert.equal(sha256(readFileSync(join(CONFORMANCE, 'rfc5769', f))), hash, f);
  assert.equal(FILES.size, 6);
  for (const [f, b] of FILES) {
    const hex = readFileSync(join(CONFORMANCE, 'rfc5769', f.replace(/\.bin$/, '.hex')), 'utf8').trim();
    assert.equal(b.toString('hex'), hex, f);
  }
});

test('2.1 sample request: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME; short-term integrity and fingerprint', () => {
  const m = decodeVector('sample-request');
  assert.equal(m.class, 'request');
  assert.equal(getAttribute(m, 'software')?.value, 'STUN test client');
  assert.equal(getAttribute(m, 'username')?.value, 'evtj:h6vY', 'the 3 padding spaces are not part of it');
  assert.equal(Buffer.from(getRawAttribute(m, 0x0024) ?? []).readUInt32BE(0), 1845494271);
  assert.equal(Buffer.from(getRawAttribute(m, 0x8029) ?? []).readBigUInt64BE(0), 0x932ff9b151263b36n);
  assert.equal(Buffer.from(getAttribute(m, 'message-integrity')?.hmac ?? []).toString('hex'), '9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2');
  assert.equal(getAttribute(m, 'fingerprint')?.crc32, 0xe57a3bcf);
  const key = shortTermKey(PASSWORD);
  assert.equal(verifyMessageIntegrity(m, key), true);
  assert.equal(verifyFingerprint(m), true);
  assert.equal(verifyMessageIntegrity(m, shortTermKey(`${PASSWORD}x`)), false);
  assertOneBitBreaks('sample-request', 'MESSAGE-INTEGRITY', (x) => verifyMessageIntegrity(x, key));
  assertOneBitBreaks('sample-request', 'FINGERPRINT', verifyFingerprint);
  assertReencodes('sample-request', m, { integrity: { key }, fingerprint: true }, 0x20);
});

test('2.2 sample IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853; integrity and fingerprint', () => {
  const m = decodeVector('sample-ipv4-response');
  assert.equal(m.class, 'success');
  assert.equal(getAttribute(m, 'software')?.value, 'test vector');
  assert.deepEqual(getAttribute(m, 'xor-mapped-address')?.address, { family: 'IPv4', address: '192.0.2.1', port: 32853 });
  const key = shortTermKey(PASSWORD);
  assert.equal(verifyMessageIntegrity(m, key), true);
  assert.equal(verifyFingerprint(m), true);
  assertOneBitBreaks('sample-ipv4-response', 'MESSAGE-INTEGRITY', (x) => verifyMessageIntegrity(x, key));
  assertOneBitBreaks('sample-ipv4-response', 'FINGERPRINT', verifyFingerprint);
  assertReencodes('sample-ipv4-response', m, { integrity: { key }, fingerprint: true }, 0x20);
});

test('2.3 sample IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853; integrity and fingerprint', () => {
  const m = decodeVector('sample-ipv6-response');
  assert.deepEqual(getAttribute(m, 'xor-mapped-address')?.address, {
    family: 'IPv6', address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853,
  });
  const key = shortTermKey(PASSWORD);
  assert.equal(verifyMessageIntegrity(m, key), true);
  assert.equal(verifyFingerprint(m), true);
  assertOneBitBreaks('sample-ipv6-response', 'MESSAGE-INTEGRITY', (x) => verifyMessageIntegrity(x, key));
  assertOneBitBreaks('sample-ipv6-response', 'FINGERPRINT', verifyFingerprint);
  assertReencodes('sample-ipv6-response', m, { integrity: { key }, fingerprint: true }, 0x20);
});

test('2.4 long-term auth request: UTF-8 USERNAME, NONCE, REALM; MD5 key; no FINGERPRINT', () => {
  const m = decodeVector('sample-request-long-term-auth');
  assert.equal(getAttribute(m, 'username')?.value, USER_2_4);
  assert.equal(getAttribute(m, 'nonce')?.value, 'f//499k954d6OL34oL9FSTvy64sA');
  assert.equal(getAttribute(m, 'realm')?.value, 'example.org');
  assert.equal(getAttribute(m, 'fingerprint'), undefined);
  assert.equal(verifyFingerprint(m), false, 'absent, so not verified');
  const key = longTermKey(USER_2_4, 'example.org', PREPARED_PASSWORD_2_4);
  assert.equal(Buffer.from(key).toString('hex'), 'e8ca7ad59d5eb0518e312911d2dab2a9');
  assert.equal(verifyMessageIntegrity(m, key), true);
  // No SASLprep in this codec: the password as printed in the RFC must be prepared by the caller.
  assert.equal(verifyMessageIntegrity(m, longTermKey(USER_2_4, 'example.org', 'The\u00ADM\u00AAtr\u2168')), false);
  assertOneBitBreaks('sample-request-long-term-auth', 'MESSAGE-INTEGRITY', (x) => verifyMessageIntegrity(x, key));
  assertReencodes('sample-request-long-term-auth', m, { integrity: { key } }, 0x00);
});

test('RFC 8489 B.1 (as corrected): USERHASH, PASSWORD-ALGORITHM SHA-256 and MESSAGE-INTEGRITY-SHA256', () => {
  const name = 'rfc8489-b1-userhash-sha256-corrected';
  const m = decodeVector(name);
  assert.deepEqual(getRawAttribute(m, 0x001e), new Uint8Array(userHash(USER_2_4, 'example.org')));
  assert.equal(Buffer.from(getRawAttribute(m, 0x001d) ?? []).toString('hex'), '00020000', 'PASSWORD-ALGORITHM SHA-256, no parameters');
  assert.equal(getAttribute(m, 'nonce')?.value, 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA');
  const key = longTermKey(USER_2_4, 'example.org', PREPARED_PASSWORD_2_4, 'sha256');
  assert.equal(verifyMessageIntegrity(m, key), true);
  assert.equal(verifyMessageIntegrity(m, key, 'sha256'), true);
  assert.equal(verifyMessageIntegrity(m, longTermKey(USER_2_4, 'example.org', PREPARED_PASSWORD_2_4)), false, 'MD5 key');
  assertOneBitBreaks(name, 'MESSAGE-INTEGRITY-SHA256', (x) => verifyMessageIntegrity(x, key));
  assertReencodes(name, m, { integrity: { key, algorithm: 'sha256' } }, 0x00);
});

test('RFC 8489 B.1 as printed is rejected for its length, and its MESSAGE-INTEGRITY-SHA256 verifies with no key', () => {
  const printed = bytes('rfc8489-b1-userhash-sha256-as-published');
  assert.throws(() => decodeStunMessage(printed), (e: unknown) => e instanceof StunError && e.code === 'bad-length');
  const fixed = Buffer.from(printed);
  fixed.writeUInt16BE(printed.length - 20, 2);
  const m = decodeStunMessage(fixed);
  assert.equal(getAttribute(m, 'message-integrity-sha256')?.hmac.length, 32);
  for (const algorithm of ['md5', 'sha256'] as const) {
    assert.equal(verifyMessageIntegrity(m, longTermKey(USER_2_4, 'example.org', PREPARED_PASSWORD_2_4, algorithm)), false, algorithm);
  }
});
