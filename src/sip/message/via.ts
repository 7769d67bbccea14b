// Via (RFC 3261 §20.42, §25.1) with RFC 5118 IPv6 sent-by and received values.
import { isToken, skipWsp, splitCheckedParams } from './chars.js';
import { SipParseError } from './errors.js';
import { splitList } from './headers.js';
import { formatParams, parseHeaderParams } from './name-addr.js';
import type { Via } from './types.js';
import { parseHostPort } from './uri.js';

function bad(text: string, why: string): SipParseError {
  return new SipParseError('bad-via', `bad Via ${JSON.stringify(text.slice(0, 120))}: ${why}`, 400);
}

function readToken(s: string, i: number): { token: string; end: number } {
  const start = i;
  while (i < s.length && isToken(s.charCodeAt(i))) i++;
  return { token: s.slice(start, i), end: i };
}

/** The usual Via (no LWS inside, no IPv6, token params) by one regular expression. */
const FAST_VIA = /^SIP\/2\.0\/([A-Za-z]+) ([A-Za-z0-9][A-Za-z0-9.\-]*)(?::(\d{1,5}))?((?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~:]+)?)*)$/;

function fastVia(text: string): Via | undefined {
  const m = FAST_VIA.exec(text);
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) return undefined;
  const params = splitCheckedParams(m[4]);
  const via: Via = { protocol: 'SIP/2.0', transport: (m[1] as string).toUpperCase(), host: (m[2] as string).toLowerCase(), params };
  if (port !== undefined) via.port = port;
  return via;
}

export function parseOneVia(text: string): Via {
  const fast = fastVia(text);
  if (fast) return fast;
  const s = text;
  let i = skipWsp(s, 0);
  const name = readToken(s, i);
  i = skipWsp(s, name.end);
  if (s[i] !== '/') throw bad(text, 'expected SIP/2.0/transport');
  i = skipWsp(s, i + 1);
  const version = readToken(s, i);
  i = skipWsp(s, version.end);
  if (s[i] !== '/') throw bad(text, 'expected SIP/2.0/transport');
  i = skipWsp(s, i + 1);
  const transport = readToken(s, i);
  if (!name.token || !version.token || !transport.token) throw bad(text, 'incomplete sent-protocol');
  i = skipWsp(s, transport.end);
  const hostStart = i;
  if (s[i] === '[') {
    const end = s.indexOf(']', i);
    if (end < 0) throw bad(text, 'unterminated IPv6 reference');
    i = end + 1;
  } else {
    while (i < s.length && s[i] !== ':' && s[i] !== ';' && s[i] !== ' ' && s[i] !== '\t') i++;
  }
  let hostPort = s.slice(hostStart, i);
  const afterHost = skipWsp(s, i);
  if (s[afterHost] === ':') {
    const ps = skipWsp(s, afterHost + 1);
    let pe = ps;
    while (pe < s.length && s.charCodeAt(pe) >= 0x30 && s.charCodeAt(pe) <= 0x39) pe++;
    hostPort += `:${s.slice(ps, pe)}`;
    i = pe;
  }
  let hp;
  try {
    hp = parseHostPort(hostPort, text);
  } catch (err) {
    throw bad(text, (err as Error).message);
  }
  const params = parseHeaderParams(s, i, text, (why) => bad(text, why));
  const via: Via = { protocol: `${name.token.toUpperCase()}/${version.token}`, transport: transport.token.toUpperCase(), host: hp.host, params };
  if (hp.port !== undefined) via.port = hp.port;
  return via;
}

export function parseVia(value: string): Via[] {
  const parts = splitList(value);
  if (parts.length === 0) throw bad(value, 'empty');
  return parts.map(parseOneVia);
}

export function formatVia(v: Via): string {
  return `${v.protocol}/${v.transport} ${v.host}${v.port !== undefined ? `:${v.port}` : ''}${formatParams(v.params)}`;
}
