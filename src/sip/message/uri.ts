// SIP and SIPS URIs (RFC 3261 §19.1, §25.1) with IPv6 references (RFC 5118); other schemes
// (tel:, unknown ones — RFC 4475 §3.3.2) are kept as opaque text.
import { isIP } from 'node:net';
import { escape, isHostChar, splitCheckedParams, unescape } from './chars.js';
import { SipParseError } from './errors.js';
import { isSipUri, type SipUri, type Uri } from './types.js';

const MAX_URI_LENGTH = 4096;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

function bad(text: string, why: string): SipParseError {
  return new SipParseError('bad-uri', `bad URI ${JSON.stringify(text.slice(0, 120))}: ${why}`, 400);
}

/** Parses an IPv6 reference body leniently: RFC 5118 §4.10 asks us to tolerate ":::" too. */
function validIpv6(body: string): boolean {
  if (isIP(body) === 6) return true;
  return /^[0-9A-Fa-f:.]+$/.test(body) && isIP(body.replace(':::', '::')) === 6;
}

export function parseHostPort(text: string, whole: string): { host: string; port?: number } {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw bad(whole, 'unterminated IPv6 reference');
    const body = text.slice(1, end);
    if (!validIpv6(body)) throw bad(whole, 'invalid IPv6 reference');
    host = `[${body.toLowerCase()}]`;
    rest = text.slice(end + 1);
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? '' : text.slice(colon);
    if (host.length === 0) throw bad(whole, 'empty host');
    for (let i = 0; i < host.length; i++) if (!isHostChar(host.charCodeAt(i))) throw bad(whole, `invalid character in host "${host}"`);
    host = host.toLowerCase();
  }
  if (rest === '') return { host };
  if (!/^:\d{1,5}$/.test(rest)) throw bad(whole, `invalid port "${rest.slice(1)}"`);
  const port = Number(rest.slice(1));
  if (port > 65535) throw bad(whole, 'port out of range');
  return { host, port };
}

function parseParams(text: string, whole: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const name = unescape(rawName, 'param');
    if (!name) throw bad(whole, `invalid or empty URI parameter "${part}"`);
    if (eq < 0) {
      params.set(name.toLowerCase(), null);
      continue;
    }
    const value = unescape(part.slice(eq + 1), 'param');
    if (value === undefined || value === '') throw bad(whole, `invalid value in URI parameter "${part}"`);
    params.set(name.toLowerCase(), value);
  }
  return params;
}

function parseUriHeaders(text: string, whole: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(whole, `invalid URI header "${part}"`);
    const name = unescape(part.slice(0, eq), 'header');
    const value = unescape(part.slice(eq + 1), 'header');
    if (!name || value === undefined) throw bad(whole, `invalid URI header "${part}"`);
    headers.set(name, value);
  }
  return headers;
}

/**
 * The common shape (sip:user@host:port;params, no escapes, no password, no ?headers) parsed by
 * one regular expression; anything else takes the general path below.
 */
const FAST_SIP_URI = /^(sips?):(?:([A-Za-z0-9\-_.!~*'()&=+$,?/]+)@)?([A-Za-z0-9][A-Za-z0-9.\-_]*)(?::(\d{1,5}))?((?:;[A-Za-z0-9\-_.!~*'()[\]/:&+$]+(?:=[A-Za-z0-9\-_.!~*'()[\]/:&+$]+)?)*)$/;

/** The ?headers of the many URIs that have none. */
const NO_HEADERS: ReadonlyMap<string, string> = new Map();

function fastParse(text: string): SipUri | undefined {
  const m = FAST_SIP_URI.exec(text);
  if (!m) return undefined;
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && port > 65535) return undefined;
  const uri: SipUri = { scheme: m[1] as 'sip' | 'sips', host: (m[3] as string).toLowerCase(), params: splitCheckedParams(m[5]), headers: NO_HEADERS };
  if (m[2] !== undefined) uri.user = m[2];
  if (port !== undefined) uri.port = port;
  return uri;
}

export function parseUri(text: string): Uri {
  const fast = fastParse(text);
  if (fast) return fast;
  if (text.length === 0 || text.length > MAX_URI_LENGTH) throw bad(text, 'empty or too long');
  const colon = text.indexOf(':');
  if (colon <= 0) throw bad(text, 'no scheme');
  const scheme = text.slice(0, colon);
  if (!SCHEME.test(scheme)) throw bad(text, 'invalid scheme');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) throw bad(text, 'whitespace, control characters, quotes or <> inside a URI');
  }
  const lower = scheme.toLowerCase();
  if (lower !== 'sip' && lower !== 'sips') return { scheme: lower, raw: text };

  let rest = text.slice(colon + 1);
  const uri: SipUri = { scheme: lower, host: '', params: new Map(), headers: NO_HEADERS };
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    const user = unescape(pc < 0 ? userinfo : userinfo.slice(0, pc), 'user');
    if (user === undefined || user === '') throw bad(text, 'invalid user part');
    uri.user = user;
    if (pc >= 0) {
      const password = unescape(userinfo.slice(pc + 1), 'password');
      if (password === undefined) throw bad(text, 'invalid password');
      uri.password = password;
    }
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    uri.headers = parseUriHeaders(rest.slice(q + 1), text);
    rest = rest.slice(0, q);
  }
  const semi = rest.indexOf(';');
  if (semi >= 0) {
    uri.params = parseParams(rest.slice(semi + 1), text);
    rest = rest.slice(0, semi);
  }
  const hp = parseHostPort(rest, text);
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  return uri;
}

export function formatUri(uri: Uri): string {
  if (!isSipUri(uri)) return uri.raw;
  let s = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    s += escape(uri.user, 'user');
    if (uri.password !== undefined) s += `:${escape(uri.password, 'password')}`;
    s += '@';
  }
  s += uri.host;
  if (uri.port !== undefined) s += `:${uri.port}`;
  for (const [k, v] of uri.params) s += v === null ? `;${escape(k, 'param')}` : `;${escape(k, 'param')}=${escape(v, 'param')}`;
  let first = true;
  for (const [k, v] of uri.headers) {
    s += `${first ? '?' : '&'}${escape(k, 'header')}=${escape(v, 'header')}`;
    first = false;
  }
  return s;
}

/** RFC 3261 §19.1.4 comparison of two SIP URIs (simplified: user, host, port, transport/user/method/maddr/ttl params). */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (!isSipUri(a) || !isSipUri(b)) return !isSipUri(a) && !isSipUri(b) && a.raw === b.raw;
  if (a.scheme !== b.scheme || a.user !== b.user || a.password !== b.password || a.host !== b.host || a.port !== b.port) return false;
  for (const p of ['transport', 'user', 'method', 'maddr', 'ttl']) {
    const x = a.params.get(p);
    const y = b.params.get(p);
    if ((x ?? undefined)?.toLowerCase() !== (y ?? undefined)?.toLowerCase()) return false;
  }
  return true;
}
