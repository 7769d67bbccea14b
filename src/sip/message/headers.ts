// Header fields: case-insensitive names, compact forms (RFC 3261 §7.3.3), repeated lines and
// comma-separated lists (§7.3.1), kept in order so serialisation round-trips.
import { trimWsp } from './chars.js';
import type { WireWriter } from './wire-writer.js';

/** Compact forms (RFC 3261 §7.3.3, RFC 3515, RFC 4028, RFC 3841, RFC 6665, RFC 4474). */
const COMPACT: Record<string, string> = {
  a: 'accept-contact', b: 'referred-by', c: 'content-type', d: 'request-disposition', e: 'content-encoding',
  f: 'from', i: 'call-id', j: 'reject-contact', k: 'supported', l: 'content-length', m: 'contact',
  n: 'identity-info', o: 'event', r: 'refer-to', s: 'subject', t: 'to', u: 'allow-events', v: 'via',
  x: 'session-expires', y: 'identity',
};

/** How known headers are spelled when we write them. */
const CANONICAL: Record<string, string> = {
  via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq', contact: 'Contact',
  'max-forwards': 'Max-Forwards', 'content-length': 'Content-Length', 'content-type': 'Content-Type',
  'content-encoding': 'Content-Encoding', 'content-disposition': 'Content-Disposition', route: 'Route',
  'record-route': 'Record-Route', 'www-authenticate': 'WWW-Authenticate', 'proxy-authenticate': 'Proxy-Authenticate',
  authorization: 'Authorization', 'proxy-authorization': 'Proxy-Authorization', expires: 'Expires',
  'min-expires': 'Min-Expires', allow: 'Allow', supported: 'Supported', require: 'Require',
  'proxy-require': 'Proxy-Require', unsupported: 'Unsupported', accept: 'Accept', 'accept-encoding': 'Accept-Encoding',
  'accept-language': 'Accept-Language', 'user-agent': 'User-Agent', server: 'Server', subject: 'Subject',
  'retry-after': 'Retry-After', rseq: 'RSeq', rack: 'RAck', 'refer-to': 'Refer-To', 'referred-by': 'Referred-By',
  event: 'Event', 'allow-events': 'Allow-Events', 'session-expires': 'Session-Expires', 'min-se': 'Min-SE',
  'subscription-state': 'Subscription-State', path: 'Path', 'service-route': 'Service-Route', date: 'Date',
  timestamp: 'Timestamp', warning: 'Warning', 'reply-to': 'Reply-To', 'in-reply-to': 'In-Reply-To',
  organization: 'Organization', priority: 'Priority', 'alert-info': 'Alert-Info', 'call-info': 'Call-Info',
  'error-info': 'Error-Info', 'mime-version': 'MIME-Version', 'accept-contact': 'Accept-Contact',
  'reject-contact': 'Reject-Contact', 'request-disposition': 'Request-Disposition', identity: 'Identity',
  'identity-info': 'Identity-Info', 'p-asserted-identity': 'P-Asserted-Identity', replaces: 'Replaces',
  'flow-timer': 'Flow-Timer', reason: 'Reason', 'authentication-info': 'Authentication-Info',
};

/** Headers whose values are comma-separated lists (§7.3.1); the others may contain commas. */
const LIST_HEADERS = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'content-encoding', 'allow-events', 'path', 'service-route',
  'reply-to', 'in-reply-to', 'alert-info', 'call-info', 'error-info', 'accept-contact', 'reject-contact',
  'request-disposition', 'p-asserted-identity', 'reason', 'warning',
]);

/** The lower-case full name a header is looked up by. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

export function canonicalHeaderName(name: string): string {
  const key = headerKey(name);
  return CANONICAL[key] ?? name;
}

export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(headerKey(name));
}

/** Splits a list value at commas outside quoted strings and <...> (§7.3.1). */
export function splitList(value: string): string[] {
  if (value.indexOf(',') < 0) {
    const v = trimWsp(value);
    return v.length > 0 ? [v] : [];
  }
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++; // quoted-pair
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      out.push(trimWsp(value.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(trimWsp(value.slice(start)));
  return out.filter((v) => v.length > 0);
}

/** Raw name → [written name, lookup key]; bounded so hostile unique names cannot grow it. */
const NAME_CACHE = new Map<string, readonly [string, string]>();
const NAME_CACHE_MAX = 512;

/** The names nearly every message has, found by length and === (no hashing of a fresh slice). */
const COMMON: ReadonlyArray<ReadonlyArray<readonly [string, readonly [string, string]]>> = (() => {
  const byLength: Array<Array<readonly [string, readonly [string, string]]>> = [];
  for (const written of ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'Content-Type',
    'Record-Route', 'Route', 'Allow', 'Supported', 'User-Agent', 'Server', 'Expires', 'Require', 'RSeq', 'RAck', 'Accept']) {
    const key = written.toLowerCase();
    (byLength[written.length] ??= []).push([written, [written, key]]);
  }
  return byLength;
})();

/** The [written name, lookup key] of a common name spelled canonically (so certainly a token). */
export function commonHeaderNames(name: string): readonly [string, string] | undefined {
  const common = COMMON[name.length];
  if (common) for (const [written, tuple] of common) if (written === name) return tuple;
  return undefined;
}

function names(name: string): readonly [string, string] {
  const common = commonHeaderNames(name);
  if (common) return common;
  let n = NAME_CACHE.get(name);
  if (n) return n;
  const key = headerKey(name);
  n = [CANONICAL[key] ?? name, key];
  if (NAME_CACHE.size < NAME_CACHE_MAX) NAME_CACHE.set(name, n);
  return n;
}

/**
 * Header lines in order, as three parallel arrays (name as written, lookup key, value) rather
 * than an object per line: a message makes a dozen of them and an answer copies five, so at
 * thousands of messages a second the objects were a large share of what the young-generation
 * collector had to deal with.
 */
export class SipHeaders {
  /** As written (known headers canonical, extension headers as received). */
  private readonly names: string[] = [];
  private readonly keys: string[] = [];
  private readonly values: string[] = [];
  /** Memoised parses, as two small arrays (a Map per message costs more than the few entries it holds). */
  private cacheKeys: string[] | undefined;
  private cacheValues: unknown[] | undefined;
  private versionNo = 0;

  /** Builds from [name, value] pairs in order. */
  static from(pairs: Iterable<readonly [string, string]>): SipHeaders {
    const h = new SipHeaders();
    for (const [n, v] of pairs) h.append(n, v);
    return h;
  }

  /** @internal used by the parser: name already checked (`known` when common), value trimmed. */
  pushRaw(name: string, value: string, known?: readonly [string, string]): void {
    const [written, key] = known ?? names(name);
    this.names.push(written);
    this.keys.push(key);
    this.values.push(value);
  }

  /** Changes with every mutation (used to know whether a parsed message was modified). */
  get version(): number {
    return this.versionNo;
  }

  get size(): number {
    return this.keys.length;
  }

  get(name: string): string | undefined {
    const i = this.keys.indexOf(names(name)[1]);
    return i < 0 ? undefined : this.values[i];
  }

  /** The value of a header that may appear once: undefined when absent, null when repeated. */
  getOnly(name: string): string | null | undefined {
    const key = names(name)[1];
    const i = this.keys.indexOf(key);
    if (i < 0) return undefined;
    return this.keys.indexOf(key, i + 1) >= 0 ? null : this.values[i];
  }

  /** Every value: repeated lines in order, list headers split at commas. */
  getAll(name: string): string[] {
    const key = names(name)[1];
    const out: string[] = [];
    const list = LIST_HEADERS.has(key);
    for (let i = this.keys.indexOf(key); i >= 0; i = this.keys.indexOf(key, i + 1)) {
      const value = this.values[i] as string;
      if (list) out.push(...splitList(value));
      else out.push(value);
    }
    return out;
  }

  /** Number of header lines with this name (for single-value checks). */
  count(name: string): number {
    const key = names(name)[1];
    let n = 0;
    for (let i = this.keys.indexOf(key); i >= 0; i = this.keys.indexOf(key, i + 1)) n++;
    return n;
  }

  has(name: string): boolean {
    return this.keys.indexOf(names(name)[1]) >= 0;
  }

  /** Replaces every line of this header with one line (at the position of the first). */
  set(name: string, value: string): void {
    const key = names(name)[1];
    const i = this.keys.indexOf(key);
    if (i < 0) this.insert(this.keys.length, key, name, value);
    else {
      this.names[i] = CANONICAL[key] ?? name;
      this.values[i] = cleanValue(value);
      for (let j = this.keys.length - 1; j > i; j--) if (this.keys[j] === key) this.removeAt(j);
    }
    this.changed(key);
  }

  append(name: string, value: string): void {
    const key = names(name)[1];
    this.insert(this.keys.length, key, name, value);
    this.changed(key);
  }

  /** Inserts a line before all others of its name (a new top Via or Route). */
  prepend(name: string, value: string): void {
    const key = names(name)[1];
    const i = this.keys.indexOf(key);
    this.insert(i < 0 ? this.keys.length : i, key, name, value);
    this.changed(key);
  }

  /** Removes the first value of a list header (the top Via), splitting the line if needed. */
  removeFirst(name: string): void {
    const key = names(name)[1];
    const i = this.keys.indexOf(key);
    if (i < 0) return;
    const value = this.values[i] as string;
    const values = LIST_HEADERS.has(key) && value.indexOf(',') >= 0 ? splitList(value) : [value];
    if (values.length <= 1) this.removeAt(i);
    else this.values[i] = values.slice(1).join(', ');
    this.changed(key);
  }

  /** Replaces the first value of a list header (the top Via), keeping the line's other values. */
  replaceFirst(name: string, value: string): void {
    const key = names(name)[1];
    const i = this.keys.indexOf(key);
    if (i < 0) {
      this.insert(this.keys.length, key, name, value);
    } else {
      const line = this.values[i] as string;
      const rest = LIST_HEADERS.has(key) && line.indexOf(',') >= 0 ? splitList(line).slice(1) : [];
      this.values[i] = rest.length === 0 ? cleanValue(value) : [cleanValue(value), ...rest].join(', ');
    }
    this.changed(key);
  }

  delete(name: string): void {
    const key = names(name)[1];
    for (let j = this.keys.length - 1; j >= 0; j--) if (this.keys[j] === key) this.removeAt(j);
    this.changed(key);
  }

  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.keys.length; i++) yield [this.names[i] as string, this.values[i] as string];
  }

  clone(): SipHeaders {
    const h = new SipHeaders();
    h.names.push(...this.names);
    h.keys.push(...this.keys);
    h.values.push(...this.values);
    return h;
  }

  /** Appends, in order, the lines of `from` whose lookup key is in `keys` (a response copying a request's headers). */
  copyLines(from: SipHeaders, keys: ReadonlySet<string>): void {
    for (let i = 0; i < from.keys.length; i++) {
      const key = from.keys[i] as string;
      if (!keys.has(key)) continue;
      this.names.push(from.names[i] as string);
      this.keys.push(key);
      this.values.push(from.values[i] as string);
    }
    this.changed(undefined);
  }

  /** Writes "Name: value\r\n" for every line; Content-Length says `bodyLength` whatever the value. */
  writeLines(w: WireWriter, bodyLength: number): void {
    for (let i = 0; i < this.keys.length; i++) {
      w.text(this.names[i] as string);
      w.colonSpace();
      if (this.keys[i] === 'content-length') w.decimal(bodyLength);
      else w.text(this.values[i] as string);
      w.crlf();
    }
  }

  /**
   * Memoised structured value of a header, dropped when that header changes. `key` is the
   * header's lookup key (lower-case full name), optionally followed by "." and a variant.
   */
  cached<T>(key: string, parse: () => T): T {
    const keys = (this.cacheKeys ??= []);
    const i = keys.indexOf(key);
    if (i >= 0) return (this.cacheValues as unknown[])[i] as T;
    const v = parse();
    // A parse that throws caches nothing; one that changed the headers meanwhile is still right.
    (this.cacheValues ??= []).push(v);
    keys.push(key);
    return v;
  }

  /** A memoised value if there is one, without parsing. */
  peekCached(key: string): unknown {
    const i = this.cacheKeys?.indexOf(key) ?? -1;
    return i < 0 ? undefined : this.cacheValues?.[i];
  }

  private insert(at: number, key: string, name: string, value: string): void {
    const written = CANONICAL[key] ?? name;
    if (at === this.keys.length) {
      this.names.push(written);
      this.keys.push(key);
      this.values.push(cleanValue(value));
    } else {
      this.names.splice(at, 0, written);
      this.keys.splice(at, 0, key);
      this.values.splice(at, 0, cleanValue(value));
    }
  }

  private removeAt(i: number): void {
    this.names.splice(i, 1);
    this.keys.splice(i, 1);
    this.values.splice(i, 1);
  }

  /**
   * A header changed: its memoised values go (cache keys are the header's lookup key, or that key,
   * a dot and a variant, as "via.top"); the others stay, so adding a To tag or a Server line to
   * an answer does not make the next reader parse its Via again.
   */
  private changed(key: string | undefined): void {
    this.versionNo++;
    const keys = this.cacheKeys;
    const values = this.cacheValues;
    if (!keys || !values || keys.length === 0) return;
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i] as string;
      if (key !== undefined && k !== key && !(k.length > key.length && k.charCodeAt(key.length) === 0x2e && k.startsWith(key))) continue;
      // Order does not matter: the last entry takes the freed place.
      keys[i] = keys[keys.length - 1] as string;
      values[i] = values[values.length - 1];
      keys.pop();
      values.pop();
    }
  }
}

/** Values we write must not smuggle in new header lines. */
function cleanValue(value: string): string {
  return value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 ? value.replace(/\r?\n[ \t]*/g, ' ').replace(/[\r\n]/g, ' ') : value;
}
