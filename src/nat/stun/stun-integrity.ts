// The receiver's side of RFC 8489 §14.5-14.7 (MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256,
// FINGERPRINT) and the credential keys of §9.1.1 (short-term) and §9.2.2 (long-term).
//
// No SASLprep (RFC 4013) or OpaqueString (RFC 8265) here: usernames, realms and passwords are
// used as their UTF-8 bytes. That is exactly what the profiles produce for printable ASCII, which
// is what ICE's ufrag/pwd and our provisioning use. A credential with other characters must be
// passed already prepared (RFC 5769 §2.4's "The\u00ADM\u00AAtr\u2168" is given as "TheMatrIX").
import { timingSafeEqual } from 'node:crypto';
import { STUN_FINGERPRINT_XOR, STUN_HEADER_BYTES } from './stun-constants.js';
import { crc32, digest, hmac, type IntegrityAlgorithm } from './stun-crypto.js';
import type { DecodedStunMessage } from './stun-message.js';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** RFC 8489 §9.1.1: the short-term key is the password itself. */
export function shortTermKey(password: string): Uint8Array {
  return utf8(password);
}

/**
 * RFC 8489 §9.2.2: MD5(username ":" realm ":" password), or SHA-256 of the same when the
 * server's PASSWORD-ALGORITHM is SHA-256. Inputs are used as given (see the file header).
 */
export function longTermKey(username: string, realm: string, password: string, algorithm: 'md5' | 'sha256' = 'md5'): Uint8Array {
  return digest(algorithm, utf8(`${username}:${realm}:${password}`));
}

/** RFC 8489 §14.4: USERHASH = SHA-256(username ":" realm). */
export function userHash(username: string, realm: string): Uint8Array {
  return digest('sha256', utf8(`${username}:${realm}`));
}

/** The bytes before the attribute at `offset`, with the header length patched to end after it. */
function coveredBytes(msg: DecodedStunMessage, offset: number, attributeBytes: number): Buffer {
  const covered = Buffer.from(msg.bytes.subarray(0, offset));
  covered.writeUInt16BE(offset + attributeBytes - STUN_HEADER_BYTES, 2);
  return covered;
}

/**
 * Verifies MESSAGE-INTEGRITY (sha1) or MESSAGE-INTEGRITY-SHA256 with `key`. Without `algorithm`
 * the strongest one present is checked (RFC 8489 §14.6). False when the attribute is absent.
 */
export function verifyMessageIntegrity(msg: DecodedStunMessage, key: Uint8Array, algorithm?: IntegrityAlgorithm): boolean {
  const has = (k: string): boolean => msg.attributes.some((a) => a.kind === k);
  const algo = algorithm ?? (has('message-integrity-sha256') ? 'sha256' : 'sha1');
  const kind = algo === 'sha1' ? 'message-integrity' : 'message-integrity-sha256';
  const i = msg.attributes.findIndex((a) => a.kind === kind);
  const attr = msg.attributes[i];
  const offset = msg.offsets[i];
  if (!attr || offset === undefined || (attr.kind !== 'message-integrity' && attr.kind !== 'message-integrity-sha256')) return false;
  const expected = hmac(algo, key, coveredBytes(msg, offset, 4 + attr.hmac.length)).subarray(0, attr.hmac.length);
  return timingSafeEqual(expected, attr.hmac);
}

/** RFC 8489 §14.7: CRC-32 of everything before FINGERPRINT, XOR 0x5354554E. False when absent. */
export function verifyFingerprint(msg: DecodedStunMessage): boolean {
  const i = msg.attributes.findIndex((a) => a.kind === 'fingerprint');
  const attr = msg.attributes[i];
  const offset = msg.offsets[i];
  if (attr?.kind !== 'fingerprint' || offset === undefined) return false;
  return ((crc32(msg.bytes.subarray(0, offset)) ^ STUN_FINGERPRINT_XOR) >>> 0) === attr.crc32;
}
