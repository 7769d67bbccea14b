import { CodedError } from '../../util/errors.js';

export type SipParseErrorCode =
  | 'too-large'
  | 'too-many-headers'
  | 'line-too-long'
  | 'no-header-end'
  | 'bad-start-line'
  | 'bad-version'
  | 'bad-status'
  | 'bad-header'
  | 'bad-content-length'
  | 'bad-uri'
  | 'bad-name-addr'
  | 'bad-via'
  | 'bad-cseq'
  | 'bad-value'
  | 'bad-framing';

/**
 * A SIP message (or part of one) that cannot be parsed. `status` is the response a UAS should
 * send for it (400, 505, 413, ...); `partial` is what could be read, so a transport can answer
 * statelessly from its Via, From, To, Call-ID and CSeq.
 */
export class SipParseError extends CodedError<SipParseErrorCode> {
  constructor(
    code: SipParseErrorCode,
    message: string,
    readonly status?: number,
    readonly partial?: import('./types.js').SipMessage,
  ) {
    super(code, message);
  }

  withPartial(partial: import('./types.js').SipMessage): SipParseError {
    return new SipParseError(this.code, this.message, this.status, partial);
  }
}
