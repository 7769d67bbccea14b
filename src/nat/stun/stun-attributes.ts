// Typed STUN attributes and their value codecs: RFC 8489 §14, RFC 5780 §7, RFC 3489 §11.2 (the
// old SOURCE-ADDRESS and CHANGED-ADDRESS coturn still sends). Unknown types stay raw bytes.
import { FAMILY_CODE, bytesToIp, ipToBytes, type StunAddress } from './stun-address.js';
import { STUN_ATTR, STUN_MAGIC_COOKIE } from './stun-constants.js';
import { StunError } from './stun-error.js';

type AddressKind =
  | 'mapped-address' | 'xor-mapped-address' | 'alternate-server' | 'response-origin' | 'other-address'
  | 'changed-address' | 'source-address';
type TextKind = 'username' | 'realm' | 'nonce' | 'software';

export type StunAttribute =
  | { [K in AddressKind]: { readonly kind: K; readonly address: StunAddress } }[AddressKind]
  | { [K in TextKind]: { readonly kind: K; readonly value: string } }[TextKind]
  | { readonly kind: 'message-integrity'; readonly hmac: Uint8Array }
  | { readonly kind: 'message-integrity-sha256'; readonly hmac: Uint8Array }
  | { readonly kind: 'fingerprint'; readonly crc32: number }
  /** `code` is class × 100 + number, 300..699 (RFC 8489 §14.8). */
  | { readonly kind: 'error-code'; readonly code: number; readonly reason: string }
  | { readonly kind: 'unknown-attributes'; readonly types: readonly number[] }
  | { readonly kind: 'change-request'; readonly changeIp: boolean; readonly changePort: boolean }
  | { readonly kind: 'response-port'; readonly port: number }
  /** RFC 5780 §7.6: only the length matters; the encoder writes zeros. */
  | { readonly kind: 'padding'; readonly length: number }
  | { readonly kind: 'raw'; readonly type: number; readonly value: Uint8Array };

export type StunAttributeKind = StunAttribute['kind'];
export type AttributeOf<K extends StunAttributeKind> = Extract<StunAttribute, { kind: K }>;

export const ATTRIBUTE_TYPE: Readonly<Record<Exclude<StunAttributeKind, 'raw'>, number>> = {
  'mapped-address': STUN_ATTR.MAPPED_ADDRESS,
  'xor-mapped-address': STUN_ATTR.XOR_MAPPED_ADDRESS,
  'alternate-server': STUN_ATTR.ALTERNATE_SERVER,
  'response-origin': STUN_ATTR.RESPONSE_ORIGIN,
  'other-address': STUN_ATTR.OTHER_ADDRESS,
  'changed-address': STUN_ATTR.CHANGED_ADDRESS,
  'source-address': STUN_ATTR.SOURCE_ADDRESS,
  username: STUN_ATTR.USERNAME,
  realm: STUN_ATTR.REALM,
  nonce: STUN_ATTR.NONCE,
  software: STUN_ATTR.SOFTWARE,
  'message-integrity': STUN_ATTR.MESSAGE_INTEGRITY,
  'message-integrity-sha256': STUN_ATTR.MESSAGE_INTEGRITY_SHA256,
  fingerprint: STUN_ATTR.FINGERPRINT,
  'error-code': STUN_ATTR.ERROR_CODE,
  'unknown-attributes': STUN_ATTR.UNKNOWN_ATTRIBUTES,
  'change-request': STUN_ATTR.CHANGE_REQUEST,
  'response-port': STUN_ATTR.RESPONSE_PORT,
  padding: STUN_ATTR.PADDING,
};

const KIND_OF_TYPE = new Map<number, Exclude<StunAttributeKind, 'raw'>>(
  Object.entries(ATTRIBUTE_TYPE).map(([k, t]) => [t, k as Exclude<StunAttributeKind, 'raw'>]),
);

export const attributeType = (a: StunAttribute): number => (a.kind === 'raw' ? a.type : ATTRIBUTE_TYPE[a.kind]);
/** True for the types this codec decodes into typed values. */
export const isKnownAttributeType = (type: number): boolean => KIND_OF_TYPE.has(type);

/** RFC 8489 §14.3, §14.9, §14.10, §14.14, §14.8: the largest values the RFC allows, in bytes. */
const TEXT_MAX_BYTES: Readonly<Record<TextKind, number>> = { username: 513, realm: 763, nonce: 763, software: 763 };
const REASON_MAX_BYTES = 763;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** A copy, never a view: Buffer#slice shares memory, and the XOR below must not write into the datagram. */
const copy = (v: Uint8Array): Uint8Array => new Uint8Array(v);

const bad = (what: string): StunError => new StunError('bad-attribute', what);

function text(value: Uint8Array, what: string, maxBytes: number): string {
  if (value.length > maxBytes) throw bad(`${what}: ${value.length} bytes, at most ${maxBytes} allowed`);
  try {
    return utf8.decode(value);
  } catch {
    throw bad(`${what}: not UTF-8`);
  }
}

/** The cookie followed by the transaction id: the XOR mask of RFC 8489 §14.2. */
function xorMask(transactionId: Uint8Array): Uint8Array {
  const mask = new Uint8Array(16);
  new DataView(mask.buffer).setUint32(0, STUN_MAGIC_COOKIE);
  mask.set(transactionId, 4);
  return mask;
}

function decodeAddress(v: Uint8Array, what: string, xorWith: Uint8Array | undefined): StunAddress {
  if (v.length < 4) throw bad(`${what}: ${v.length} bytes`);
  const family = v[1] === FAMILY_CODE.IPv4 ? 'IPv4' : v[1] === FAMILY_CODE.IPv6 ? 'IPv6' : undefined;
  if (!family) throw bad(`${what}: unknown address family ${v[1]}`);
  const ipBytes = family === 'IPv4' ? 4 : 16;
  if (v.length !== 4 + ipBytes) throw bad(`${what}: ${v.length} bytes for ${family}`);
  const ip = copy(v.subarray(4));
  let port = ((v[2] as number) << 8) | (v[3] as number);
  if (xorWith) {
    port ^= STUN_MAGIC_COOKIE >>> 16;
    for (let i = 0; i < ip.length; i++) ip[i] = (ip[i] as number) ^ (xorWith[i] as number);
  }
  return { family, address: bytesToIp(ip), port };
}

function encodeAddress(a: StunAddress, xorWith: Uint8Array | undefined): Uint8Array {
  const { family, bytes } = ipToBytes(a.address);
  checkPort(a.port);
  const v = new Uint8Array(4 + bytes.length);
  v[1] = FAMILY_CODE[family];
  const port = xorWith ? a.port ^ (STUN_MAGIC_COOKIE >>> 16) : a.port;
  v[2] = port >> 8;
  v[3] = port & 0xff;
  for (let i = 0; i < bytes.length; i++) v[4 + i] = (bytes[i] as number) ^ (xorWith ? (xorWith[i] as number) : 0);
  return v;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new StunError('bad-value', `port ${port} out of range`);
}

/** Decodes one attribute value (without padding). Throws StunError('bad-attribute') on a malformed value. */
export function decodeAttribute(type: number, v: Uint8Array, transactionId: Uint8Array): StunAttribute {
  const kind = KIND_OF_TYPE.get(type);
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  switch (kind) {
    case undefined:
      return { kind: 'raw', type, value: copy(v) };
    case 'xor-mapped-address':
      return { kind, address: decodeAddress(v, kind, xorMask(transactionId)) };
    case 'mapped-address': case 'alternate-server': case 'response-origin': case 'other-address':
    case 'changed-address': case 'source-address':
      return { kind, address: decodeAddress(v, kind, undefined) };
    case 'username': case 'realm': case 'nonce': case 'software':
      return { kind, value: text(v, kind, TEXT_MAX_BYTES[kind]) };
    case 'message-integrity':
      if (v.length !== 20) throw bad(`MESSAGE-INTEGRITY: ${v.length} bytes, must be 20`);
      return { kind, hmac: copy(v) };
    case 'message-integrity-sha256':
      // RFC 8489 §14.6: at least 16 bytes, a multiple of 4, at most 32.
      if (v.length < 16 || v.length > 32 || v.length % 4 !== 0) throw bad(`MESSAGE-INTEGRITY-SHA256: ${v.length} bytes`);
      return { kind, hmac: copy(v) };
    case 'fingerprint':
      if (v.length !== 4) throw bad(`FINGERPRINT: ${v.length} bytes, must be 4`);
      return { kind, crc32: view.getUint32(0) };
    case 'error-code': {
      if (v.length < 4) throw bad(`ERROR-CODE: ${v.length} bytes`);
      const cls = (v[2] as number) & 0x07;
      const num = v[3] as number;
      if (cls < 3 || cls > 6 || num > 99) throw bad(`ERROR-CODE: class ${cls} number ${num}`);
      return { kind, code: cls * 100 + num, reason: text(v.subarray(4), 'ERROR-CODE reason', REASON_MAX_BYTES) };
    }
    case 'unknown-attributes': {
      if (v.length % 2 !== 0) throw bad(`UNKNOWN-ATTRIBUTES: odd length ${v.length}`);
      const types: number[] = [];
      for (let i = 0; i < v.length; i += 2) types.push(view.getUint16(i));
      return { kind, types };
    }
    case 'change-request': {
      if (v.length !== 4) throw bad(`CHANGE-REQUEST: ${v.length} bytes, must be 4`);
      const flags = view.getUint32(0);
      return { kind, changeIp: (flags & 0x4) !== 0, changePort: (flags & 0x2) !== 0 };
    }
    case 'response-port':
      // RFC 5780 §7.5: a port and two bytes of padding inside the value; a bare 2-byte port is tolerated.
      if (v.length !== 4 && v.length !== 2) throw bad(`RESPONSE-PORT: ${v.length} bytes`);
      return { kind, port: view.getUint16(0) };
    case 'padding':
      return { kind, length: v.length };
  }
}

function textBytes(value: string, what: string, maxBytes: number): Uint8Array {
  const b = utf8Encoder.encode(value);
  if (b.length > maxBytes) throw new StunError('bad-value', `${what}: ${b.length} bytes, at most ${maxBytes} allowed`);
  return b;
}

/** Encodes one attribute value (without padding). Throws StunError('bad-value') for values the wire cannot carry. */
export function encodeAttributeValue(a: StunAttribute, transactionId: Uint8Array): Uint8Array {
  switch (a.kind) {
    case 'raw':
      return a.value;
    case 'xor-mapped-address':
      return encodeAddress(a.address, xorMask(transactionId));
    case 'mapped-address': case 'alternate-server': case 'response-origin': case 'other-address':
    case 'changed-address': case 'source-address':
      return encodeAddress(a.address, undefined);
    case 'username': case 'realm': case 'nonce': case 'software':
      return textBytes(a.value, a.kind, TEXT_MAX_BYTES[a.kind]);
    case 'message-integrity': case 'message-integrity-sha256':
      return a.hmac;
    case 'fingerprint': {
      const v = new Uint8Array(4);
      new DataView(v.buffer).setUint32(0, a.crc32 >>> 0);
      return v;
    }
    case 'error-code': {
      if (!Number.isInteger(a.code) || a.code < 300 || a.code > 699) throw new StunError('bad-value', `error code ${a.code} not in 300..699`);
      const reason = textBytes(a.reason, 'ERROR-CODE reason', REASON_MAX_BYTES);
      const v = new Uint8Array(4 + reason.length);
      v[2] = Math.floor(a.code / 100);
      v[3] = a.code % 100;
      v.set(reason, 4);
      return v;
    }
    case 'unknown-attributes': {
      const v = new Uint8Array(2 * a.types.length);
      const view = new DataView(v.buffer);
      a.types.forEach((t, i) => view.setUint16(2 * i, t));
      return v;
    }
    case 'change-request':
      return Uint8Array.of(0, 0, 0, (a.changeIp ? 0x4 : 0) | (a.changePort ? 0x2 : 0));
    case 'response-port':
      checkPort(a.port);
      return Uint8Array.of(a.port >> 8, a.port & 0xff, 0, 0);
    case 'padding':
      if (!Number.isInteger(a.length) || a.length < 0 || a.length > 0xffff) throw new StunError('bad-value', `padding length ${a.length}`);
      return new Uint8Array(a.length);
  }
}
