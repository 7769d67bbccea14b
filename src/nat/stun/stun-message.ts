// STUN messages (RFC 8489 §5, §14): the header, attribute framing with 4-byte padding, and the
// sender's side of MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT. Decoding is the parse-at-the-edge
// step for bytes from a socket: every failure is a StunError, never an out-of-bounds read.
import { randomBytes } from 'node:crypto';
import {
  attributeType, decodeAttribute, encodeAttributeValue, isKnownAttributeType, type AttributeOf, type StunAttribute,
  type StunAttributeKind,
} from './stun-attributes.js';
import {
  STUN_ATTR, STUN_FINGERPRINT_XOR, STUN_HEADER_BYTES, STUN_MAGIC_COOKIE, STUN_MAX_MESSAGE_BYTES, STUN_TRANSACTION_ID_BYTES,
  isComprehensionRequired, type StunClass,
} from './stun-constants.js';
import { HMAC_BYTES, crc32, hmac, type IntegrityAlgorithm } from './stun-crypto.js';
import { StunError } from './stun-error.js';

export interface StunMessage {
  /** 12-bit method: 0x001 Binding, 0x003 Allocate, ... */
  readonly method: number;
  readonly class: StunClass;
  readonly transactionId: Uint8Array;
  readonly attributes: readonly StunAttribute[];
}

export interface DecodedStunMessage extends StunMessage {
  /** The whole message as received; integrity and fingerprint checks hash these bytes. */
  readonly bytes: Uint8Array;
  /** Byte offset of each attribute's header in `bytes`, parallel to `attributes`. */
  readonly offsets: readonly number[];
}

export interface DecodeOptions {
  /** Reject anything longer (default and maximum: what the 16-bit length field allows). */
  readonly maxBytes?: number;
}

export interface EncodeOptions {
  /** Append MESSAGE-INTEGRITY (sha1, default) or MESSAGE-INTEGRITY-SHA256 computed with this key. */
  readonly integrity?: { readonly key: Uint8Array; readonly algorithm?: IntegrityAlgorithm };
  /** Append FINGERPRINT (RFC 8489 §14.7), after any integrity attribute. */
  readonly fingerprint?: boolean;
  /** Value of padding bytes: RFC 8489 §14 lets them be anything (RFC 5769's vectors use 0x20). Default 0. */
  readonly padByte?: number;
}

const CLASS_BITS: Readonly<Record<StunClass, number>> = { request: 0x000, indication: 0x010, success: 0x100, error: 0x110 };

/** RFC 8489 §5: the class bits C1 C0 sit at 0x100 and 0x010, the 12 method bits around them. */
export function messageType(method: number, cls: StunClass): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | CLASS_BITS[cls];
}

export function splitMessageType(type: number): { method: number; class: StunClass } {
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const c = type & 0x110;
  const cls: StunClass = c === 0 ? 'request' : c === 0x010 ? 'indication' : c === 0x100 ? 'success' : 'error';
  return { method, class: cls };
}

export const newTransactionId = (): Uint8Array => new Uint8Array(randomBytes(STUN_TRANSACTION_ID_BYTES));

const padded = (n: number): number => (n + 3) & ~3;

/**
 * Demultiplexing check for a socket shared with SIP or RTP (RFC 7983 §7, RFC 8489 §5): the top
 * two bits are zero, the magic cookie is present, and the length field is a multiple of 4 that
 * accounts for exactly the bytes of the datagram.
 */
export function isStun(bytes: Uint8Array): boolean {
  if (bytes.length < STUN_HEADER_BYTES || ((bytes[0] as number) & 0xc0) !== 0) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint16(2);
  return view.getUint32(4) === STUN_MAGIC_COOKIE && length % 4 === 0 && STUN_HEADER_BYTES + length === bytes.length;
}

export function decodeStunMessage(bytes: Uint8Array, options: DecodeOptions = {}): DecodedStunMessage {
  const maxBytes = Math.min(options.maxBytes ?? STUN_MAX_MESSAGE_BYTES, STUN_MAX_MESSAGE_BYTES);
  if (bytes.length < STUN_HEADER_BYTES) throw new StunError('truncated', `${bytes.length} bytes, a STUN header needs 20`);
  if (bytes.length > maxBytes) throw new StunError('too-large', `${bytes.length} bytes, limit ${maxBytes}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(0);
  if ((type & 0xc000) !== 0) throw new StunError('not-stun', 'top two bits are not zero');
  if (view.getUint32(4) !== STUN_MAGIC_COOKIE) throw new StunError('not-stun', 'no magic cookie');
  const length = view.getUint16(2);
  if (length % 4 !== 0) throw new StunError('bad-length', `length ${length} is not a multiple of 4`);
  if (STUN_HEADER_BYTES + length !== bytes.length) {
    throw new StunError('bad-length', `header says ${length} attribute bytes, ${bytes.length - STUN_HEADER_BYTES} follow`);
  }
  const transactionId = new Uint8Array(bytes.subarray(8, STUN_HEADER_BYTES));
  const attributes: StunAttribute[] = [];
  const offsets: number[] = [];
  // RFC 8489 §14.5, §14.6: after an integrity attribute, only MESSAGE-INTEGRITY-SHA256 (after
  // MESSAGE-INTEGRITY) and FINGERPRINT count; anything else is ignored. FINGERPRINT is last (§14.7).
  let after: 'none' | 'message-integrity' | 'message-integrity-sha256' | 'fingerprint' = 'none';
  for (let off = STUN_HEADER_BYTES; off < bytes.length; ) {
    if (off + 4 > bytes.length) throw new StunError('truncated', `attribute header at ${off} runs past the end`);
    const attrType = view.getUint16(off);
    const attrLength = view.getUint16(off + 2);
    if (off + 4 + padded(attrLength) > bytes.length) {
      throw new StunError('truncated', `attribute 0x${attrType.toString(16)} at ${off}: ${attrLength} bytes run past the end`);
    }
    if (after === 'fingerprint') throw new StunError('bad-attribute', `attribute 0x${attrType.toString(16)} after FINGERPRINT`);
    const a = decodeAttribute(attrType, bytes.subarray(off + 4, off + 4 + attrLength), transactionId);
    const counts =
      after === 'none' || a.kind === 'fingerprint' || (after === 'message-integrity' && a.kind === 'message-integrity-sha256');
    if (counts) {
      attributes.push(a);
      offsets.push(off);
      if (a.kind === 'fingerprint' || a.kind === 'message-integrity' || a.kind === 'message-integrity-sha256') after = a.kind;
    }
    off += 4 + padded(attrLength);
  }
  return { ...splitMessageType(type), transactionId, attributes, offsets, bytes };
}

function header(type: number, length: number, transactionId: Uint8Array): Buffer {
  const h = Buffer.alloc(STUN_HEADER_BYTES);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  h.set(transactionId, 8);
  return h;
}

function frame(type: number, value: Uint8Array, padByte: number): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0xffff) throw new StunError('bad-value', `attribute type ${type}`);
  if (value.length > 0xffff) throw new StunError('too-large', `attribute 0x${type.toString(16)}: ${value.length} bytes`);
  const b = Buffer.alloc(4 + padded(value.length), padByte);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  b.set(value, 4);
  return b;
}

export function encodeStunMessage(msg: StunMessage, options: EncodeOptions = {}): Buffer {
  if (msg.transactionId.length !== STUN_TRANSACTION_ID_BYTES) {
    throw new StunError('bad-value', `transaction id of ${msg.transactionId.length} bytes, must be 12`);
  }
  if (!Number.isInteger(msg.method) || msg.method < 0 || msg.method > 0xfff) throw new StunError('bad-value', `method ${msg.method}`);
  const padByte = options.padByte ?? 0;
  const sealed = msg.attributes.find((a) => a.kind === 'message-integrity' || a.kind === 'message-integrity-sha256' || a.kind === 'fingerprint');
  if (sealed && (options.integrity || options.fingerprint)) {
    throw new StunError('bad-value', `the message already carries ${sealed.kind}: encode it as is, or drop it to recompute`);
  }
  const type = messageType(msg.method, msg.class);
  const parts = msg.attributes.map((a) => frame(attributeType(a), encodeAttributeValue(a, msg.transactionId), padByte));
  let length = parts.reduce((n, p) => n + p.length, 0);
  const checkLength = (n: number): number => {
    if (n > 0xffff) throw new StunError('too-large', `${n} attribute bytes do not fit the length field`);
    return n;
  };
  if (options.integrity) {
    // RFC 8489 §14.5: the HMAC covers the header with a length that already counts this attribute.
    const algorithm = options.integrity.algorithm ?? 'sha1';
    length = checkLength(length + 4 + HMAC_BYTES[algorithm]);
    const mac = hmac(algorithm, options.integrity.key, Buffer.concat([header(type, length, msg.transactionId), ...parts]));
    parts.push(frame(algorithm === 'sha1' ? STUN_ATTR.MESSAGE_INTEGRITY : STUN_ATTR.MESSAGE_INTEGRITY_SHA256, mac, padByte));
  }
  if (options.fingerprint) {
    length = checkLength(length + 8);
    const crc = crc32(Buffer.concat([header(type, length, msg.transactionId), ...parts])) ^ STUN_FINGERPRINT_XOR;
    parts.push(frame(STUN_ATTR.FINGERPRINT, Uint8Array.of(crc >>> 24, crc >>> 16, crc >>> 8, crc), padByte));
  }
  return Buffer.concat([header(type, checkLength(length), msg.transactionId), ...parts]);
}

/** The first attribute of a kind (RFC 8489 §14: a receiver uses the first of duplicates). */
export function getAttribute<K extends StunAttributeKind>(msg: StunMessage, kind: K): AttributeOf<K> | undefined {
  return msg.attributes.find((a): a is AttributeOf<K> => a.kind === kind);
}

/** The value of an attribute this codec keeps raw (PRIORITY, ICE-CONTROLLED, TURN's attributes, ...). */
export function getRawAttribute(msg: StunMessage, type: number): Uint8Array | undefined {
  return msg.attributes.find((a): a is AttributeOf<'raw'> => a.kind === 'raw' && a.type === type)?.value;
}

/**
 * Comprehension-required attribute types (RFC 8489 §14) that neither this codec nor the caller
 * (`understood`) knows: a request with any gets a 420, a response with any fails its transaction.
 */
export function unknownComprehensionRequired(msg: StunMessage, understood: Iterable<number> = []): number[] {
  const extra = new Set(understood);
  const types = msg.attributes.filter((a): a is AttributeOf<'raw'> => a.kind === 'raw').map((a) => a.type);
  return [...new Set(types.filter((t) => isComprehensionRequired(t) && !isKnownAttributeType(t) && !extra.has(t)))];
}
