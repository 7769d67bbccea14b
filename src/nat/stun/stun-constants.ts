// Protocol numbers of STUN (RFC 8489 §5, §18), RFC 5780 and the RFC 3489 attributes coturn still sends.

export const STUN_MAGIC_COOKIE = 0x2112a442;
export const STUN_HEADER_BYTES = 20;
export const STUN_TRANSACTION_ID_BYTES = 12;
/** RFC 8489 §14.7: FINGERPRINT is CRC-32 XOR this value ("STUN"). */
export const STUN_FINGERPRINT_XOR = 0x5354554e;
/** The 16-bit length field bounds every message at 20 + 65535 bytes; decoders default to this limit. */
export const STUN_MAX_MESSAGE_BYTES = STUN_HEADER_BYTES + 0xfffc;

export const STUN_METHOD_BINDING = 0x001;

export type StunClass = 'request' | 'indication' | 'success' | 'error';

export const STUN_ATTR = {
  MAPPED_ADDRESS: 0x0001,
  CHANGE_REQUEST: 0x0003,
  SOURCE_ADDRESS: 0x0004,
  CHANGED_ADDRESS: 0x0005,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  REALM: 0x0014,
  NONCE: 0x0015,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  XOR_MAPPED_ADDRESS: 0x0020,
  PADDING: 0x0026,
  RESPONSE_PORT: 0x0027,
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  FINGERPRINT: 0x8028,
  RESPONSE_ORIGIN: 0x802b,
  OTHER_ADDRESS: 0x802c,
} as const;

/** RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required, 0x8000-0xFFFF optional. */
export const isComprehensionRequired = (type: number): boolean => type < 0x8000;
