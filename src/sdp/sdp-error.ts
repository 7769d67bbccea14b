import { CodedError } from '../util/index.js';

export type SdpErrorCode =
  | 'too-large'
  | 'bad-encoding'
  | 'bad-syntax'
  | 'bad-version'
  | 'bad-origin'
  | 'too-many-media'
  | 'too-many-formats'
  | 'bad-media-line'
  | 'bad-format'
  | 'bad-rtpmap'
  | 'bad-port'
  | 'bad-connection'
  | 'multicast'
  | 'broadcast'
  | 'no-audio'
  | 'no-common-codec'
  | 'answer-mismatch'
  | 'bad-local-media';

/**
 * A session description we cannot use: a body that does not parse, breaks a limit or names a
 * media address we refuse, or an offer/answer that cannot be negotiated. A UAS answers an offer
 * that fails this way with 488 (RFC 3261 §13.3.1.3), or 400 when the body itself is unreadable.
 */
export class SdpError extends CodedError<SdpErrorCode> {}
