// The STUN layer's public surface (RFC 8489, RFC 5780): one codec for Binding today and for
// TURN and ICE later, the Binding transaction machine, and its UDP driver.
export {
  STUN_ATTR,
  STUN_FINGERPRINT_XOR,
  STUN_HEADER_BYTES,
  STUN_MAGIC_COOKIE,
  STUN_MAX_MESSAGE_BYTES,
  STUN_METHOD_BINDING,
  STUN_TRANSACTION_ID_BYTES,
  isComprehensionRequired,
  type StunClass,
} from './stun-constants.js';
export { StunError, type StunErrorCode } from './stun-error.js';
export type { StunAddress, StunFamily } from './stun-address.js';
export type { AttributeOf, StunAttribute, StunAttributeKind } from './stun-attributes.js';
export type { IntegrityAlgorithm } from './stun-crypto.js';
export {
  decodeStunMessage,
  encodeStunMessage,
  getAttribute,
  getRawAttribute,
  isStun,
  messageType,
  newTransactionId,
  splitMessageType,
  unknownComprehensionRequired,
  type DecodeOptions,
  type DecodedStunMessage,
  type EncodeOptions,
  type StunMessage,
} from './stun-message.js';
export { longTermKey, shortTermKey, userHash, verifyFingerprint, verifyMessageIntegrity } from './stun-integrity.js';
export {
  BindingTransaction,
  STUN_RC,
  STUN_RM,
  STUN_RTO_MS,
  type BindingAction,
  type BindingOutcome,
  type BindingTransactionOptions,
  type BindingTransactionState,
} from './binding-transaction.js';
export { StunClient, type BindingOptions, type BindingResult, type StunClientOptions, type StunSocket } from './stun-client.js';
