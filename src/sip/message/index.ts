export type { Uri, SipUri, OtherUri, NameAddr, Via, CSeq, SipRequest, SipResponse, SipMessage } from './types.js';
export { isSipUri } from './types.js';
export { SipParseError, type SipParseErrorCode } from './errors.js';
export { ownString } from './chars.js';
export { SipHeaders, splitList, headerKey, canonicalHeaderName, isListHeader } from './headers.js';
export { parseMessage, serializeMessage, DEFAULT_LIMITS, type ParseLimits } from './parser.js';
export { StreamFramer, type FramedItem } from './stream-framer.js';
export { parseUri, formatUri, uriEquals } from './uri.js';
export { parseNameAddr, formatNameAddr } from './name-addr.js';
export { parseVia, formatVia } from './via.js';
export {
  getVias, topVia, getCSeq, getCallId, getFrom, getTo, getMaxForwards, getContacts, getExpires,
  checkRequest, checkResponse, makeResponse, reasonPhrase,
} from './accessors.js';
