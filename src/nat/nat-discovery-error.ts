// The one error type of NAT behaviour discovery: callers branch on `code`, never on message text.
import { CodedError } from '../util/index.js';

export type NatDiscoveryErrorCode =
  /** The tests were answered in a way no RFC 5780 decision fits (loss, a half-blocked path). */
  | 'inconclusive'
  /** The STUN server does not do what RFC 5780 asks (no OTHER-ADDRESS, ignores RESPONSE-PORT). */
  | 'bad-server'
  /** The server's name did not resolve to an address. */
  | 'resolve-failed'
  /** An option out of range. */
  | 'bad-option';

export class NatDiscoveryError extends CodedError<NatDiscoveryErrorCode> {}
