// The STUN layer's one error type: callers branch on `code`, never on message text.
import { CodedError } from '../../util/index.js';

export type StunErrorCode =
  /** Fewer than 20 bytes, or an attribute header/value runs past the end. */
  | 'truncated'
  /** Not a STUN message: top bits set or no magic cookie (RFC 3489 messages are not accepted). */
  | 'not-stun'
  /** Larger than the decoder's or encoder's size limit. */
  | 'too-large'
  /** Header length not a multiple of 4 or not equal to the bytes that follow. */
  | 'bad-length'
  /** An attribute value that breaks its RFC format (length, family, UTF-8, range, FINGERPRINT not last). */
  | 'bad-attribute'
  /** A value given to the encoder that cannot be put on the wire. */
  | 'bad-value'
  /** A transaction asked to make a transition its state does not allow. */
  | 'bad-state'
  /** RFC 8489 §6.2.1: no response after Rc sends and the final Rm×RTO wait. */
  | 'timeout'
  /** The server answered with an error response (see `stunCode`). */
  | 'error-response'
  /** A response the client must treat as a failed transaction (RFC 8489 §6.3.3, §6.3.4). */
  | 'malformed-response'
  | 'send-failed'
  | 'closed';

export class StunError extends CodedError<StunErrorCode> {
  constructor(
    code: StunErrorCode,
    message: string,
    /** For 'error-response': the ERROR-CODE number (300..699) and the UNKNOWN-ATTRIBUTES of a 420. */
    readonly details: { readonly stunCode?: number; readonly unknownAttributes?: readonly number[] } = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
