// RFC 3261 §7: parsing a SIP message from bytes, with limits checked before allocating.
import { isTokenString, trimWsp } from './chars.js';
import { SipParseError } from './errors.js';
import { commonHeaderNames, SipHeaders } from './headers.js';
import type { SipMessage, SipRequest, SipResponse } from './types.js';
import { formatUri, parseUri } from './uri.js';
import { WireWriter } from './wire-writer.js';

export interface ParseLimits {
  /** Whole message, headers and body (UDP: 65,535). */
  maxBytes: number;
  maxHeaders: number;
  /** One physical header line, and one unfolded header value. */
  maxLineLength: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxBytes: 65_535, maxHeaders: 256, maxLineLength: 8192 };

const NO_LIMITS: Partial<ParseLimits> = {};
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = new Uint8Array(0);
const LFLF = Buffer.from('\n\n');

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Where the header section ends: index of the empty line and the length of its terminator. */
export function findHeaderEnd(buf: Buffer, from = 0): { at: number; sep: number } | undefined {
  const a = buf.indexOf(CRLFCRLF, from);
  if (a >= 0) return { at: a, sep: 4 };
  // Tolerate bare LF line ends (some RFC 5118 copies and hand-written tests use them).
  const b = buf.indexOf(LFLF, from);
  if (b >= 0 && !buf.subarray(from, b).includes(0x0d)) return { at: b, sep: 2 };
  return undefined;
}

/** Parses a Content-Length value strictly: digits only, no sign, no overflow. */
export function parseContentLength(values: string[]): number | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new SipParseError('bad-content-length', 'more than one Content-Length (RFC 4475 §3.3.9)', 400);
  const v = values[0] ?? '';
  if (!/^\d{1,10}$/.test(v)) throw new SipParseError('bad-content-length', `invalid Content-Length ${JSON.stringify(v.slice(0, 20))}`, 400);
  return Number(v);
}

function isComplete(l: Partial<ParseLimits>): l is ParseLimits {
  return l.maxBytes !== undefined && l.maxHeaders !== undefined && l.maxLineLength !== undefined;
}

interface Head {
  startLine: string;
  headers: SipHeaders;
}

function isWspCode(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Scans the header section by index (no per-line strings): one slice per name and value. */
function parseHead(text: string, limits: ParseLimits): Head {
  const len = text.length;
  let pos = 0;
  let nl = 0;
  // The end of the line starting at `pos` (CRLF or bare LF), and where the next one starts.
  const lineEnd = (): number => {
    nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    return nl > pos && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
  };
  let le = lineEnd();
  while (le === pos && nl < len) {
    pos = nl + 1; // §7.5: CRLFs before the start line
    le = lineEnd();
  }
  if (le - pos > limits.maxLineLength) throw new SipParseError('line-too-long', 'start line too long', 414);
  const startLine = text.slice(pos, le);
  pos = nl + 1;
  const headers = new SipHeaders();
  while (pos < len) {
    le = lineEnd();
    if (le - pos > limits.maxLineLength) throw new SipParseError('line-too-long', `a header line is longer than ${limits.maxLineLength} bytes`, 400);
    if (le === pos) {
      pos = nl + 1;
      continue;
    }
    if (isWspCode(text.charCodeAt(pos))) throw new SipParseError('bad-header', 'continuation line before any header', 400);
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon >= le || colon === pos) throw new SipParseError('bad-header', `header line without a name and colon: ${JSON.stringify(text.slice(pos, Math.min(le, pos + 40)))}`, 400);
    let ne = colon;
    while (ne > pos && isWspCode(text.charCodeAt(ne - 1))) ne--;
    const name = text.slice(pos, ne);
    const known = commonHeaderNames(name);
    if (!known && !isTokenString(name)) throw new SipParseError('bad-header', `invalid header name ${JSON.stringify(name.slice(0, 40))}`, 400);
    let vs = colon + 1;
    while (vs < le && isWspCode(text.charCodeAt(vs))) vs++;
    let ve = le;
    while (ve > vs && isWspCode(text.charCodeAt(ve - 1))) ve--;
    let value = text.slice(vs, ve);
    pos = nl + 1;
    // §7.3.1 folding: each continuation line joins the value with one SP.
    while (pos < len && isWspCode(text.charCodeAt(pos))) {
      le = lineEnd();
      if (le - pos > limits.maxLineLength) throw new SipParseError('line-too-long', `a header line is longer than ${limits.maxLineLength} bytes`, 400);
      value = trimWsp(`${value} ${trimWsp(text.slice(pos, le))}`);
      if (value.length > limits.maxLineLength) throw new SipParseError('line-too-long', `header ${name} longer than ${limits.maxLineLength} bytes`, 400);
      pos = nl + 1;
    }
    if (headers.size >= limits.maxHeaders) throw new SipParseError('too-many-headers', `more than ${limits.maxHeaders} header lines`, 400);
    headers.pushRaw(name, value, known);
  }
  return { startLine, headers };
}

const VERSION = /^SIP\/(\d+)\.(\d+)$/i;

function startMessage(head: Head): SipMessage {
  const { startLine, headers } = head;
  if (startLine.startsWith('SIP/') || startLine.startsWith('sip/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const sp1 = startLine.indexOf(' ');
    const sp2 = startLine.indexOf(' ', sp1 + 1);
    const version = startLine.slice(0, sp1);
    const code = sp2 < 0 ? startLine.slice(sp1 + 1) : startLine.slice(sp1 + 1, sp2);
    if (sp1 < 0 || (version !== 'SIP/2.0' && !VERSION.test(version))) throw new SipParseError('bad-start-line', 'bad status line', 400);
    if (version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') throw new SipParseError('bad-version', `unsupported version ${version}`, 505);
    if (!/^[1-6]\d\d$/.test(code)) throw new SipParseError('bad-status', `bad status code ${JSON.stringify(code.slice(0, 20))}`);
    const res: SipResponse = { kind: 'response', status: Number(code), reason: sp2 < 0 ? '' : startLine.slice(sp2 + 1), headers, body: new Uint8Array(0) };
    return res;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version, single spaces (RFC 4475 §3.1.2.9/10)
  const sp1 = startLine.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : startLine.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || startLine.indexOf(' ', sp2 + 1) >= 0) throw new SipParseError('bad-start-line', `bad request line ${JSON.stringify(startLine.slice(0, 80))}`, 400);
  const method = startLine.slice(0, sp1);
  const uriText = startLine.slice(sp1 + 1, sp2);
  const version = startLine.slice(sp2 + 1);
  if (!isTokenString(method)) throw new SipParseError('bad-start-line', 'bad method', 400);
  if (version !== 'SIP/2.0' && !VERSION.test(version)) throw new SipParseError('bad-start-line', `bad version ${JSON.stringify(version.slice(0, 20))}`, 400);
  const uri = parseUri(uriText);
  const req: SipRequest = { kind: 'request', method, uri, headers, body: new Uint8Array(0) };
  if (version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') throw new SipParseError('bad-version', `unsupported version ${version}`, 505, req);
  return req;
}

/**
 * Parses one message from a datagram (or a framed stream message). Bytes after the body that
 * Content-Length announces are ignored (RFC 3261 §18.3, RFC 4475 §3.1.1.8); without
 * Content-Length the body runs to the end (datagrams only).
 */
export function parseMessage(bytes: Uint8Array, limits: Partial<ParseLimits> = NO_LIMITS): SipMessage {
  const lim: ParseLimits = limits === NO_LIMITS ? DEFAULT_LIMITS : isComplete(limits) ? limits : { ...DEFAULT_LIMITS, ...limits };
  const buf = asBuffer(bytes);
  if (buf.length > lim.maxBytes) throw new SipParseError('too-large', `message of ${buf.length} bytes exceeds ${lim.maxBytes}`, 513);
  // A datagram is complete: one that ends its last header line without the empty line after it
  // (RFC 4475 §3.1.2.15's baddn.dat) is read as headers without a body.
  const end = findHeaderEnd(buf) ?? (buf.length >= 2 && buf[buf.length - 2] === 0x0d && buf[buf.length - 1] === 0x0a ? { at: buf.length - 2, sep: 2 } : undefined);
  if (!end) throw new SipParseError('no-header-end', 'no empty line after the headers', 400);
  if (end.at > lim.maxHeaders * lim.maxLineLength) throw new SipParseError('too-large', 'header section too large', 400);
  const head = parseHead(buf.toString('utf8', 0, end.at), lim);
  let msg: SipMessage;
  try {
    msg = startMessage(head);
  } catch (err) {
    // A request whose start line is broken (RFC 4475 §3.1.2.7-10) can still be answered 400
    // statelessly from its headers: hand them on as a partial request.
    if (err instanceof SipParseError && err.partial === undefined && !/^SIP\//i.test(head.startLine)) {
      const method = head.startLine.split(' ')[0] ?? '';
      throw err.withPartial({ kind: 'request', method: isTokenString(method) ? method : 'UNKNOWN', uri: { scheme: 'invalid', raw: '' }, headers: head.headers, body: new Uint8Array(0) });
    }
    throw err;
  }
  const bodyStart = end.at + end.sep;
  let length: number | undefined;
  try {
    const cl = msg.headers.getOnly('Content-Length');
    length = cl === undefined ? undefined : parseContentLength(cl === null ? msg.headers.getAll('Content-Length') : [cl]);
  } catch (err) {
    throw (err as SipParseError).withPartial(msg);
  }
  const available = buf.length - bodyStart;
  if (length === undefined) length = available;
  if (length > available) {
    throw new SipParseError('bad-content-length', `Content-Length ${length} but only ${available} bytes follow (RFC 4475 §3.1.2.2)`, 400, msg);
  }
  // The message keeps a view of its own bytes (shared by the body and the wire cache), so
  // callers must not write into a buffer after parsing it (our transports never do). A view that
  // would pin much more memory than the message (a slice of a large stream buffer) is copied.
  const total = bodyStart + length;
  const pinned = buf.buffer.byteLength - total;
  const own = pinned <= Math.max(total, 8192) ? buf.subarray(0, total) : Buffer.from(buf.subarray(0, total));
  msg.body = length === 0 ? EMPTY : own.subarray(bodyStart);
  rememberWire(msg, own);
  return msg;
}

interface Wire {
  bytes: Buffer;
  /** The headers object too: a copy of the message ({ ...msg, headers: clone }) carries this entry along. */
  headers: SipHeaders;
  version: number;
  body: Uint8Array;
  first: unknown;
  second: unknown;
}

/**
 * The bytes a message was parsed from, while it stays unchanged: serialising an untouched
 * message (a retransmission, a response we forward) then costs nothing and is byte-exact.
 * Kept under a symbol on the message itself: a WeakMap entry per message costs the garbage
 * collector far more than a property does.
 */
const WIRE = Symbol('sip.wire');
type WithWire = SipMessage & { [WIRE]?: Wire | undefined };

function startFields(m: SipMessage): [unknown, unknown] {
  return m.kind === 'request' ? [m.method, m.uri] : [m.status, m.reason];
}

function rememberWire(msg: SipMessage, bytes: Buffer): void {
  const [first, second] = startFields(msg);
  (msg as WithWire)[WIRE] = { bytes, headers: msg.headers, version: msg.headers.version, body: msg.body, first, second };
}

const writer = new WireWriter();

/**
 * The message as bytes. A message parsed and not changed since gives back the bytes it came
 * from; one we wrote remembers its bytes the same way, so serialising it again (the answer sent,
 * then kept for retransmissions) costs nothing.
 */
export function serializeMessage(msg: SipMessage): Buffer {
  const wire = (msg as WithWire)[WIRE];
  if (wire) {
    const [first, second] = startFields(msg);
    if (wire.headers === msg.headers && wire.version === msg.headers.version && wire.body === msg.body && wire.first === first && wire.second === second) return wire.bytes;
    (msg as WithWire)[WIRE] = undefined;
  }
  const w = writer.reset();
  if (msg.kind === 'request') {
    w.text(msg.method);
    w.text(' ');
    w.text(formatUri(msg.uri));
    w.text(' SIP/2.0');
  } else {
    w.text('SIP/2.0 ');
    w.decimal(msg.status);
    w.text(' ');
    w.text(msg.reason);
  }
  w.crlf();
  msg.headers.writeLines(w, msg.body.length);
  w.crlf();
  if (msg.body.length > 0) w.bytes(msg.body);
  const bytes = w.finish();
  rememberWire(msg, bytes);
  return bytes;
}
