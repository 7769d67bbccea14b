// name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1): From, To, Contact,
// Route, Record-Route, Reply-To, Refer-To. Without <>, ;params belong to the header (§20).
import { isToken, isWsp, skipWsp, splitCheckedParams, trimWsp } from './chars.js';
import { SipParseError } from './errors.js';
import type { NameAddr } from './types.js';
import { formatUri, parseUri } from './uri.js';

function bad(text: string, why: string): SipParseError {
  return new SipParseError('bad-name-addr', `bad address ${JSON.stringify(text.slice(0, 120))}: ${why}`, 400);
}

/** Reads a quoted-string starting at s[i] === '"'; returns its unescaped content and the index after it. */
export function readQuoted(s: string, i: number, whole: string): { value: string; end: number } {
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) {
      if (j + 1 >= s.length) break;
      out += s[j + 1];
      j++;
    } else if (c === 0x22) {
      return { value: out, end: j + 1 };
    } else if (c === 0x0d || c === 0x0a) {
      break;
    } else {
      out += s[j];
    }
  }
  throw bad(whole, 'unterminated quoted string');
}

/** Generic ;name[=value] parameters with LWS around ; and = (values: token, host, or quoted-string kept with its quotes). */
export function parseHeaderParams(s: string, i: number, whole: string, onError: (why: string) => SipParseError): Map<string, string | null> {
  const params = new Map<string, string | null>();
  for (;;) {
    i = skipWsp(s, i);
    if (i >= s.length) return params;
    if (s[i] !== ';') throw onError(`unexpected "${s.slice(i, i + 20)}"`);
    i = skipWsp(s, i + 1);
    const start = i;
    while (i < s.length && isToken(s.charCodeAt(i))) i++;
    if (i === start) throw onError('empty parameter');
    const name = s.slice(start, i).toLowerCase();
    i = skipWsp(s, i);
    if (s[i] !== '=') {
      params.set(name, null);
      continue;
    }
    i = skipWsp(s, i + 1);
    if (s[i] === '"') {
      const q = readQuoted(s, i, whole);
      params.set(name, s.slice(i, q.end));
      i = q.end;
      continue;
    }
    const vs = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (!(isToken(c) || c === 0x3a || c === 0x5b || c === 0x5d)) break;
      i++;
    }
    if (i === vs) throw onError(`parameter ${name} has an empty value`);
    params.set(name, s.slice(vs, i));
  }
}

/** `"Name" <uri>;p=v` or `Name <uri>;p=v` with token parameters, by one regular expression. */
const FAST_NAME_ADDR = /^(?:"([^"\\\r\n]*)" *|([A-Za-z0-9\-.!%*_+`'~]+(?: [A-Za-z0-9\-.!%*_+`'~]+)*) *)?<([^<>\s"]+)>((?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~:[\]]+)?)*)$/;

function fastNameAddr(text: string): NameAddr | undefined {
  const m = FAST_NAME_ADDR.exec(text);
  if (!m) return undefined;
  let uri;
  try {
    uri = parseUri(m[3] as string);
  } catch {
    return undefined;
  }
  const params = splitCheckedParams(m[4]);
  const na: NameAddr = { uri, params };
  const display = m[1] ?? m[2];
  if (display !== undefined) na.displayName = display;
  return na;
}

export function parseNameAddr(text: string): NameAddr {
  const fast = fastNameAddr(text);
  if (fast) return fast;
  const s = text;
  let i = skipWsp(s, 0);
  let displayName: string | undefined;
  if (s[i] === '"') {
    const q = readQuoted(s, i, text);
    displayName = q.value;
    i = skipWsp(s, q.end);
    if (s[i] !== '<') throw bad(text, 'a quoted display name must be followed by <URI>');
  } else {
    const lt = s.indexOf('<', i);
    if (lt >= 0) {
      // token display name: tokens separated by LWS, glued to < allowed (RFC 4475 §3.1.1.6)
      const words = trimWsp(s.slice(i, lt));
      if (words.length > 0) {
        const parts = words.split(/[ \t]+/);
        for (const w of parts) for (let k = 0; k < w.length; k++) if (!isToken(w.charCodeAt(k))) throw bad(text, `display name "${words}" must be quoted`);
        displayName = parts.join(' ');
      }
      i = lt;
    }
  }
  let uriText: string;
  if (s[i] === '<') {
    const gt = s.indexOf('>', i);
    if (gt < 0) throw bad(text, 'missing >');
    uriText = s.slice(i + 1, gt);
    i = gt + 1;
  } else {
    // addr-spec: the URI ends at the first ; , LWS; it may not carry ?headers (RFC 4475 §3.1.2.13)
    let j = i;
    while (j < s.length && s[j] !== ';' && !isWsp(s.charCodeAt(j))) j++;
    uriText = s.slice(i, j);
    if (uriText.includes('?') || uriText.includes(',')) throw bad(text, 'a URI with ? or , must be enclosed in <>');
    i = j;
  }
  let uri;
  try {
    uri = parseUri(uriText);
  } catch (err) {
    throw bad(text, (err as Error).message);
  }
  const params = parseHeaderParams(s, i, text, (why) => bad(text, why));
  const na: NameAddr = { uri, params };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

export function formatParams(params: Map<string, string | null>): string {
  let s = '';
  for (const [k, v] of params) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}

export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function formatNameAddr(na: NameAddr): string {
  const display = na.displayName === undefined ? '' : `${quote(na.displayName)} `;
  return `${display}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}
