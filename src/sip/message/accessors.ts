// Typed access to the headers a SIP element needs, parsed on first use and cached.
// Every accessor throws SipParseError (status 400) on a missing or malformed value.
import { isTokenString } from './chars.js';
import { SipParseError } from './errors.js';
import { SipHeaders, splitList } from './headers.js';
import { parseNameAddr } from './name-addr.js';
import { isSipUri, type CSeq, type NameAddr, type SipMessage, type SipRequest, type SipResponse, type Via } from './types.js';
import { parseOneVia } from './via.js';

const MAX_CSEQ = 0x7fffffff; // RFC 3261 §8.1.1.5: less than 2**31

function missing(name: string): SipParseError {
  return new SipParseError('bad-value', `missing ${name}`, 400);
}

function single(m: SipMessage, name: string): string {
  const v = m.headers.getOnly(name);
  if (v === undefined) throw missing(name);
  if (v === null) throw new SipParseError('bad-value', `more than one ${name} (RFC 4475 §3.3.8)`, 400);
  return v;
}

export function getVias(m: SipMessage): Via[] {
  return m.headers.cached('via', () => {
    const values = m.headers.getAll('Via'); // already split at commas
    if (values.length === 0) throw missing('Via');
    // The top one is usually parsed already (transaction matching needs it first).
    return values.map((v, i) => (i === 0 ? topVia(m) : parseOneVia(v)));
  });
}

/** The top Via alone: a broken Via further down must not stop us answering (RFC 4475 §3.1.2.1). */
export function topVia(m: SipMessage): Via {
  return m.headers.cached('via.top', () => {
    const first = m.headers.get('Via');
    if (first === undefined) throw missing('Via');
    const value = splitList(first)[0];
    if (value === undefined) throw missing('Via');
    return parseOneVia(value);
  });
}

export function getCSeq(m: SipMessage): CSeq {
  return m.headers.cached('cseq', () => {
    const v = single(m, 'CSeq');
    const match = /^(\d{1,10})[ \t]+(\S+)$/.exec(v);
    if (!match) throw new SipParseError('bad-cseq', `bad CSeq ${JSON.stringify(v.slice(0, 40))}`, 400);
    const seq = Number(match[1]);
    const method = match[2] ?? '';
    if (seq > MAX_CSEQ) throw new SipParseError('bad-cseq', `CSeq number ${match[1]} is not below 2**31`, 400);
    if (!isTokenString(method)) throw new SipParseError('bad-cseq', 'bad CSeq method', 400);
    return { seq, method };
  });
}

export function getCallId(m: SipMessage): string {
  return m.headers.cached('call-id', () => {
    const v = single(m, 'Call-ID');
    if (v.length === 0 || /[\s]/.test(v)) throw new SipParseError('bad-value', 'bad Call-ID', 400);
    return v;
  });
}

export function getFrom(m: SipMessage): NameAddr {
  return m.headers.cached('from', () => parseNameAddr(single(m, 'From')));
}

export function getTo(m: SipMessage): NameAddr {
  return m.headers.cached('to', () => parseNameAddr(single(m, 'To')));
}

export function getMaxForwards(m: SipMessage): number | undefined {
  return m.headers.cached('max-forwards', () => {
    if (m.headers.count('Max-Forwards') === 0) return undefined;
    const v = single(m, 'Max-Forwards');
    // Leading zeros are legal (RFC 4475 §3.1.1.1: "0068"); the value is at most 255.
    if (!/^\d{1,10}$/.test(v) || Number(v) > 255) throw new SipParseError('bad-value', `bad Max-Forwards ${JSON.stringify(v.slice(0, 20))}`, 400);
    return Number(v);
  });
}

/** Contact values; '*' only as the sole value of a REGISTER's Contact (§10.2.2). */
export function getContacts(m: SipMessage): Array<NameAddr | '*'> {
  return m.headers.cached('contact', () => {
    const values = m.headers.getAll('Contact');
    if (values.length === 1 && values[0] === '*') return ['*' as const];
    return values.map((v) => parseNameAddr(v));
  });
}

export function getExpires(m: SipMessage): number | undefined {
  const v = m.headers.get('Expires');
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v)) throw new SipParseError('bad-value', `bad Expires ${JSON.stringify(v.slice(0, 20))}`, 400);
  return Math.min(Number(v), 0xffffffff);
}

/**
 * What a UAS must answer before processing a request (RFC 3261 §8.2, RFC 4475): 400 for missing
 * or malformed mandatory headers and CSeq/method mismatch, 416 for a Request-URI scheme we do
 * not serve. Returns undefined when the request is well formed.
 */
export function checkRequest(r: SipRequest): { status: number; reason: string } | undefined {
  try {
    getVias(r);
    getFrom(r);
    getTo(r);
    getCallId(r);
    const cseq = getCSeq(r);
    getMaxForwards(r);
    if (r.headers.has('Contact')) getContacts(r);
    if (cseq.method !== r.method) return { status: 400, reason: 'Bad Request (CSeq method does not match)' };
  } catch (err) {
    if (err instanceof SipParseError) return { status: 400, reason: `Bad Request (${err.message.slice(0, 80)})` };
    throw err;
  }
  if (!isSipUri(r.uri) && r.uri.scheme !== 'tel') return { status: 416, reason: 'Unsupported URI Scheme' };
  if (isSipUri(r.uri) && r.uri.headers.size > 0) return { status: 400, reason: 'Bad Request (headers in Request-URI)' };
  return undefined;
}

/** A response is processed only if its mandatory headers parse (RFC 4475 §3.1.2.5: else drop it). */
export function checkResponse(r: SipResponse): string | undefined {
  try {
    getVias(r);
    getFrom(r);
    getTo(r);
    getCallId(r);
    getCSeq(r);
  } catch (err) {
    if (err instanceof SipParseError) return err.message;
    throw err;
  }
  return undefined;
}

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 413: 'Request Entity Too Large',
  414: 'Request-URI Too Long', 415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension',
  421: 'Extension Required', 422: 'Session Interval Too Small', 423: 'Interval Too Brief', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops', 484: 'Address Incomplete',
  486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending',
  500: 'Server Internal Error', 501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Server Time-out',
  505: 'Version Not Supported', 513: 'Message Too Large', 600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Progress' : status < 300 ? 'OK' : 'Error');
}

/** The body of every answer made here: empty, so one shared instance will do. */
const NO_BODY = new Uint8Array(0);

const COPIED_TO_RESPONSES: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * RFC 3261 §8.2.6.2: a response copies From, Call-ID, CSeq, every Via in order, and To
 * (a tag is added by the caller when it creates a dialog or for a non-100 final answer).
 */
export function makeResponse(req: SipRequest, status: number, reason?: string): SipResponse {
  const headers = new SipHeaders();
  headers.copyLines(req.headers, COPIED_TO_RESPONSES);
  // The response's top Via is the request's: where the response goes (§18.2.2) needs it parsed.
  const via = req.headers.peekCached('via.top');
  if (via !== undefined) headers.cached('via.top', () => via);
  // §8.2.6.1: a 100 Trying copies Timestamp.
  const ts = req.headers.get('Timestamp');
  if (status === 100 && ts !== undefined) headers.append('Timestamp', ts);
  headers.append('Content-Length', '0');
  return { kind: 'response', status, reason: reason ?? reasonPhrase(status), headers, body: NO_BODY };
}
