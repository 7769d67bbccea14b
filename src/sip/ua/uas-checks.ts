// RFC 3261 §8.2: what a UAS checks, in order, before it processes a request, and the
// responses it sends when a check fails (405, 416, 420, 415, 482, 483).
import { checkRequest, getMaxForwards, getTo, type SipRequest } from '../message/index.js';
import type { MergedRequestDetector } from './merged-request-detector.js';

export { MergedRequestDetector } from './merged-request-detector.js';

export interface UasCapabilities {
  /** Methods the UA core implements (the Allow header). */
  readonly methods: readonly string[];
  /** Option tags it supports (the Supported header). */
  readonly extensions: readonly string[];
  /** Body types it understands (the Accept header). */
  readonly accept: readonly string[];
}

export const PHONE_CAPABILITIES: UasCapabilities = {
  methods: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY'],
  extensions: ['100rel', 'timer', 'replaces', 'outbound', 'path'],
  accept: ['application/sdp', 'application/dtmf-relay', 'message/sipfrag'],
};

export interface Rejection {
  readonly status: number;
  readonly reason: string;
  /** Headers the response must carry (Allow, Unsupported, Accept, ...). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

function tokens(value: string | undefined): string[] {
  return (value ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
}

/**
 * Runs the §8.2 checks. `inDialog` is false for out-of-dialog requests. Returns the rejection
 * to send, or undefined when the request may go on to the UA core.
 */
export function checkUasRequest(req: SipRequest, caps: UasCapabilities, merged: MergedRequestDetector, nowMs: number): Rejection | undefined {
  const basic = checkRequest(req);
  if (basic) return { ...basic, headers: [] };
  // §8.2.1: method inspection.
  if (!caps.methods.includes(req.method)) {
    return { status: 405, reason: 'Method Not Allowed', headers: [['Allow', caps.methods.join(', ')]] };
  }
  // Max-Forwards 0 (§16.3 applies to proxies; a UA answers OPTIONS itself, other requests 483).
  if (getMaxForwards(req) === 0 && req.method !== 'OPTIONS') return { status: 483, reason: 'Too Many Hops', headers: [] };
  // §8.2.2.2: merged requests.
  if (!getTo(req).params.get('tag') && merged.isMerged(req, nowMs)) return { status: 482, reason: 'Loop Detected', headers: [] };
  // §8.2.2.3: Require.
  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    const unsupported = req.headers.has('Require') ? tokens(req.headers.getAll('Require').join(',')).filter((t) => !caps.extensions.includes(t)) : [];
    if (unsupported.length > 0) return { status: 420, reason: 'Bad Extension', headers: [['Unsupported', unsupported.join(', ')]] };
  }
  // §8.2.3: content processing.
  if (req.body.length > 0) {
    const type = (req.headers.get('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const encoding = tokens(req.headers.get('Content-Encoding')).filter((e) => e !== 'identity');
    const disposition = (req.headers.get('Content-Disposition') ?? 'session').split(';')[0]?.trim().toLowerCase();
    const optional = /;\s*handling\s*=\s*optional/i.test(req.headers.get('Content-Disposition') ?? '');
    const understood = caps.accept.includes(type) || (req.method === 'INFO' && type.startsWith('application/dtmf')) || (req.method === 'NOTIFY' && type.startsWith('message/sipfrag'));
    if ((!understood || encoding.length > 0) && !optional && disposition !== 'render') {
      return { status: 415, reason: 'Unsupported Media Type', headers: [['Accept', caps.accept.join(', ')], ['Accept-Encoding', 'identity']] };
    }
  }
  return undefined;
}

/** Headers of a 200 OK to OPTIONS (§11.2): what we can do. */
export function optionsHeaders(caps: UasCapabilities): ReadonlyArray<readonly [string, string]> {
  return [
    ['Allow', caps.methods.join(', ')],
    ['Accept', caps.accept.join(', ')],
    ['Accept-Encoding', 'identity'],
    ['Accept-Language', 'en'],
    ['Supported', caps.extensions.join(', ')],
  ];
}
