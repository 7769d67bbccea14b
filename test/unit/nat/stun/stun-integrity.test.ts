// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (RFC 8489 §14.5-14.7) on messages we
// build, and the credential keys of §9.1.1 and §9.2.2. RFC 5769's vectors are in test/conformance.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  decodeStunMessage, encodeStunMessage, getAttribute, longTermKey, shortTermKey, userHash, verifyFingerprint,
  verifyMessageIntegrity, type StunMessage,
} from '../../../../src/nat/stun/index.js';

const KEY = shortTermKey('VOkJxbRl1RmTxUk/WvJxBt');
const request: StunMessage = {
  method: 0x001, class: 'request', transactionId: Buffer.from('000102030405060708090a0b', 'hex'),
  attributes: [{ kind: 'username', value: 'evtj:h6vY' }, { kind: 'software', value: 'deskphone' }],
};
const flip = (b: Uint8Array, i: number): Buffer => {
  const c = Buffer.from(b);
  c[i] = (c[i] as number) ^ 0x01;
  return c;
};

test('MESSAGE-INTEGRITY: HMAC-SHA1 over the header with the length counting the attribute, then FINGERPRINT', () => {
  const bytes = encodeStunMessage(request, { integrity: { key: KEY }, fingerprint: true });
  const m = decodeStunMessage(bytes);
  assert.deepEqual(m.attributes.map((a) => a.kind), ['username', 'software', 'message-integrity', 'fingerprint']);
  const miAt = m.offsets[2] as number;
  const covered = Buffer.from(bytes.subarray(0, miAt));
  covered.writeUInt16BE(miAt + 24 - 20, 2);
  assert.deepEqual(getAttribute(m, 'message-integrity')?.hmac, new Uint8Array(createHmac('sha1', KEY).update(covered).digest()));
  assert.equal(verifyMessageIntegrity(m, KEY), true);
  assert.equal(verifyFingerprint(m), true);
  assert.equal(verifyMessageIntegrity(m, shortTermKey('wrong')), false);
});

test('MESSAGE-INTEGRITY-SHA256 is 32 bytes and verifies; the strongest present is the default check', () => {
  const m = decodeStunMessage(encodeStunMessage(request, { integrity: { key: KEY, algorithm: 'sha256' } }));
  assert.equal(getAttribute(m, 'message-integrity-sha256')?.hmac.length, 32);
  assert.equal(verifyMessageIntegrity(m, KEY), true);
  assert.equal(verifyMessageIntegrity(m, KEY, 'sha256'), true);
  assert.equal(verifyMessageIntegrity(m, KEY, 'sha1'), false, 'no MESSAGE-INTEGRITY to check');
});

test('a MESSAGE-INTEGRITY-SHA256 truncated to 16 bytes (RFC 8489 §14.6) verifies on its prefix', () => {
  const full = decodeStunMessage(encodeStunMessage(request, { integrity: { key: KEY, algorithm: 'sha256' } }));
  const mac = getAttribute(full, 'message-integrity-sha256')?.hmac ?? new Uint8Array();
  const at = full.offsets[2] as number;
  const truncated = Buffer.concat([full.bytes.subarray(0, at), Buffer.from('001c0010', 'hex'), mac.subarray(0, 16)]);
  truncated.writeUInt16BE(truncated.length - 20, 2);
  // The HMAC input's length field counts the 16-byte attribute, so recompute rather than reuse.
  const covered = Buffer.from(truncated.subarray(0, at));
  covered.writeUInt16BE(at + 20 - 20, 2);
  truncated.set(createHmac('sha256', KEY).update(covered).digest().subarray(0, 16), at + 4);
  assert.equal(verifyMessageIntegrity(decodeStunMessage(truncated), KEY), true);
  assert.equal(verifyMessageIntegrity(decodeStunMessage(flip(truncated, at + 4)), KEY), false);
});

test('attributes added after MESSAGE-INTEGRITY do not disturb it (they are ignored), FINGERPRINT still checks', () => {
  const sealed = encodeStunMessage(request, { integrity: { key: KEY } });
  const extra = Buffer.from('80220004' + '61626364', 'hex');
  const grown = Buffer.concat([sealed, extra]);
  grown.writeUInt16BE(grown.length - 20, 2);
  const m = decodeStunMessage(grown);
  assert.equal(getAttribute(m, 'software')?.value, 'deskphone', 'the late SOFTWARE is dropped');
  assert.equal(verifyMessageIntegrity(m, KEY), true);
});

test('one flipped bit anywhere before the checks breaks MESSAGE-INTEGRITY and FINGERPRINT', () => {
  const bytes = encodeStunMessage(request, { integrity: { key: KEY }, fingerprint: true });
  for (const i of [1, 8, 19, 24, 35]) {
    const m = decodeStunMessage(flip(bytes, i));
    assert.equal(verifyMessageIntegrity(m, KEY), false, `byte ${i}`);
    assert.equal(verifyFingerprint(m), false, `byte ${i}`);
  }
  const inFingerprint = decodeStunMessage(flip(bytes, bytes.length - 1));
  assert.equal(verifyMessageIntegrity(inFingerprint, KEY), true, 'FINGERPRINT is outside the HMAC');
  assert.equal(verifyFingerprint(inFingerprint), false);
});

test('absent attributes verify as false, never as true', () => {
  const m = decodeStunMessage(encodeStunMessage(request));
  assert.equal(verifyMessageIntegrity(m, KEY), false);
  assert.equal(verifyFingerprint(m), false);
});

test('long-term key is MD5(username:realm:password), or SHA-256 of it; USERHASH is SHA-256(username:realm)', () => {
  // RFC 5769 §2.4 / RFC 8489 B.1 values, with the password already through SASLprep.
  const user = '\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9';
  assert.equal(Buffer.from(longTermKey(user, 'example.org', 'TheMatrIX')).toString('hex'), 'e8ca7ad59d5eb0518e312911d2dab2a9');
  assert.equal(
    Buffer.from(longTermKey(user, 'example.org', 'TheMatrIX', 'sha256')).toString('hex'),
    'dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1',
  );
  assert.equal(Buffer.from(userHash(user, 'example.org')).toString('hex'), '4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704');
  assert.equal(Buffer.from(shortTermKey('pw')).toString('hex'), '7077');
});

test('no SASLprep: an unprepared non-ASCII password gives a different key (callers pass the prepared form)', () => {
  const user = '\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9';
  assert.notDeepEqual(longTermKey(user, 'example.org', 'The\u00ADM\u00AAtr\u2168'), longTermKey(user, 'example.org', 'TheMatrIX'));
});
