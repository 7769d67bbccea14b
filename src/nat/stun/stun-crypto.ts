// The hash functions STUN needs (RFC 8489 §14.5-14.7), on byte arrays.
import { createHash, createHmac } from 'node:crypto';

export type IntegrityAlgorithm = 'sha1' | 'sha256';

/** HMAC length on the wire: SHA-1 is always 20 bytes; SHA-256 is sent whole (32 bytes). */
export const HMAC_BYTES: Readonly<Record<IntegrityAlgorithm, number>> = { sha1: 20, sha256: 32 };

export function hmac(algorithm: IntegrityAlgorithm, key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac(algorithm, key).update(data).digest();
}

export function digest(algorithm: 'md5' | 'sha256', data: Uint8Array): Buffer {
  return createHash(algorithm).update(data).digest();
}

// CRC-32 of ISO 3309 / ITU-T V.42 (zlib's), table-driven: Node 20 has no zlib.crc32 on every release.
const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
