// The SDP layer's public surface: parse a peer's description, make and answer offers (RFC 3264).
export { SdpError, type SdpErrorCode } from './sdp-error.js';
export { type CodecName, type Codec, type LocalCodec, type TelephoneEvent } from './codecs.js';
export { type Direction, holdDirection } from './direction.js';
export { checkMediaAddress, type MediaAddressUse, type MediaAddressOptions } from './media-address.js';
export {
  parseSessionDescription, MAX_SDP_BYTES, MAX_MEDIA_LINES, MAX_FORMATS_PER_MEDIA,
  type AudioDescription, type AudioMedia, type OtherMedia, type Origin, type ParseOptions,
} from './session-description.js';
export {
  createOffer, createAnswer, acceptAnswer,
  type LocalMedia, type Negotiated, type AnswerResult, type NegotiationResult,
} from './offer-answer.js';
