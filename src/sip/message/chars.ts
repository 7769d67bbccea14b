// Character classes of the RFC 3261 §25 grammar, as lookup tables over char codes.

function table(chars: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  }
  for (const ch of chars) t[ch.charCodeAt(0)] = 1;
  return t;
}

const TOKEN = table("-.!%*_+`'~");
const USER = table("-_.!~*'()&=+$,;?/");
const PASSWORD = table("-_.!~*'()&=+$,");
const PARAM = table("-_.!~*'()[]/:&+$");
const HEADER = table("-_.!~*'()[]/?:+$");
const HOST = table('-._');

export const isToken = (c: number): boolean => c < 128 && TOKEN[c] === 1;
export const isHostChar = (c: number): boolean => c < 128 && HOST[c] === 1;

export function isTokenString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isToken(s.charCodeAt(i))) return false;
  return true;
}

export const isWsp = (c: number): boolean => c === 0x20 || c === 0x09;

export function skipWsp(s: string, i: number): number {
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  return i;
}

export type EscapeClass = 'user' | 'password' | 'param' | 'header';
const CLASSES: Record<EscapeClass, Uint8Array> = { user: USER, password: PASSWORD, param: PARAM, header: HEADER };

const HEX = '0123456789ABCDEF';

/** Percent-encodes every byte outside the class (RFC 3261 §19.1.2 "escaped"). */
export function escape(s: string, cls: EscapeClass): string {
  const t = CLASSES[cls];
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b < 128 && t[b] === 1 ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes %HH once (never recursively: "%25%34%31" is "%41", RFC 4475 §3.1.1.3); NUL bytes
 * survive. Returns undefined for a malformed escape or a character outside the class.
 */
export function unescape(s: string, cls: EscapeClass): string | undefined {
  const t = CLASSES[cls];
  let hasEscape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) hasEscape = true;
    else if (c >= 128 || t[c] !== 1) return undefined;
  }
  if (!hasEscape) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexVal(s.charCodeAt(i + 1));
      const lo = hexVal(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      bytes.push(hi * 16 + lo);
      i += 2;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Trims SP and HT only: String.prototype.trim would also eat U+FEFF and other Unicode spaces. */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

/**
 * `;a;b=c` already checked by a fast-path regular expression (tokens only, no quotes or
 * escapes): names lower-case, null for a parameter without a value.
 */
export function splitCheckedParams(raw: string | undefined): Map<string, string | null> {
  const params = new Map<string, string | null>();
  if (!raw) return params;
  let start = 1;
  while (start <= raw.length) {
    let end = raw.indexOf(';', start);
    if (end < 0) end = raw.length;
    const eq = raw.indexOf('=', start);
    if (eq < 0 || eq > end) params.set(raw.slice(start, end).toLowerCase(), null);
    else params.set(raw.slice(start, eq).toLowerCase(), raw.slice(eq + 1, end));
    start = end + 1;
  }
  return params;
}

/**
 * A copy of `s` in memory of its own. Values read from a message are slices of its header text
 * (and a key built from them a tree of such slices), so one kept for long would keep the whole
 * text alive and push it into the old generation with it.
 */
export function ownString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
