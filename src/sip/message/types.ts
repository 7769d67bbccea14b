// The SIP message model (RFC 3261 §7). Header values are kept as text and parsed on demand
// by the accessors in accessors.ts, so forwarding and answering stay cheap.
import type { SipHeaders } from './headers.js';

export interface SipUri {
  scheme: 'sip' | 'sips';
  /** Unescaped once (RFC 3261 §19.1.2); may contain any character, including NUL. */
  user?: string;
  password?: string;
  /** Lower-case; an IPv6 reference keeps its [brackets]. */
  host: string;
  port?: number;
  /** uri-parameters, names lower-case, values unescaped once; null for a parameter without value. */
  params: Map<string, string | null>;
  /** ?headers of the URI, unescaped once (read-only: URIs without headers share one empty map). */
  headers: ReadonlyMap<string, string>;
}

/** tel:, and any scheme we do not interpret: kept as text. */
export interface OtherUri {
  scheme: string;
  raw: string;
}

export type Uri = SipUri | OtherUri;

export interface NameAddr {
  displayName?: string;
  uri: Uri;
  /** Header parameters (tag, expires, q, +sip.instance...), names lower-case. */
  params: Map<string, string | null>;
}

export interface Via {
  /** "SIP/2.0" */
  protocol: string;
  /** Upper-case: UDP, TCP, TLS, SCTP, WS, or an unknown token. */
  transport: string;
  host: string;
  port?: number;
  params: Map<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: Uri;
  headers: SipHeaders;
  body: Uint8Array;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Uint8Array;
}

export type SipMessage = SipRequest | SipResponse;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}
