// Parsing WWW-Authenticate / Proxy-Authenticate Digest challenges (RFC 3261 §22.4, RFC 7616 §3.3,
// RFC 8760) and choosing the strongest one we support.
import { CodedError } from '../../util/errors.js';

export class DigestError extends CodedError<'bad-challenge' | 'unsupported' | 'wrong-credentials' | 'too-many-retries'> {}

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  readonly algorithm: DigestAlgorithm;
  /** qop options offered; empty for RFC 2069 style challenges. */
  readonly qop: readonly ('auth' | 'auth-int')[];
  readonly stale: boolean;
  readonly userhash: boolean;
}

const MAX_CHALLENGE_LENGTH = 4096;
const MAX_PARAMS = 32;
const ALGORITHMS: Record<string, DigestAlgorithm> = {
  md5: 'MD5', 'md5-sess': 'MD5-sess', 'sha-256': 'SHA-256', 'sha-256-sess': 'SHA-256-sess',
  'sha-512-256': 'SHA-512-256', 'sha-512-256-sess': 'SHA-512-256-sess',
};
/** RFC 8760 §2.4: prefer the strongest algorithm the server offers. */
const STRENGTH: Record<DigestAlgorithm, number> = { 'SHA-512-256': 6, 'SHA-512-256-sess': 5, 'SHA-256': 4, 'SHA-256-sess': 3, MD5: 2, 'MD5-sess': 1 };

function bad(why: string): DigestError {
  return new DigestError('bad-challenge', `bad Digest challenge: ${why}`);
}

/** Splits `Digest a=1, b="x,y"` (possibly several challenges in one header) into challenges of params. */
export function parseAuthParams(value: string): Array<{ scheme: string; params: Map<string, string> }> {
  if (value.length > MAX_CHALLENGE_LENGTH) throw bad(`longer than ${MAX_CHALLENGE_LENGTH} characters`);
  const out: Array<{ scheme: string; params: Map<string, string> }> = [];
  let i = 0;
  const s = value;
  const ws = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && /[A-Za-z0-9\-._~!%*+`'#$&^|]/.test(s[i] as string)) i++;
    return s.slice(start, i);
  };
  let current: { scheme: string; params: Map<string, string> } | undefined;
  while (i < s.length) {
    ws();
    if (i >= s.length) break;
    const name = token();
    if (!name) throw bad(`unexpected character ${JSON.stringify(s[i])}`);
    let j = i;
    while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
    if (s[j] !== '=') {
      // A bare token starts a new challenge (the scheme).
      current = { scheme: name, params: new Map() };
      out.push(current);
      i = j;
      continue;
    }
    if (!current) throw bad('parameters before the scheme');
    i = j + 1;
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    let v: string;
    if (s[i] === '"') {
      v = '';
      i++;
      for (;;) {
        if (i >= s.length) throw bad('unterminated quoted string');
        const c = s[i] as string;
        if (c === '\\' && i + 1 < s.length) {
          v += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          v += c;
          i++;
        }
      }
    } else {
      v = token();
    }
    const key = name.toLowerCase();
    if (current.params.has(key)) throw bad(`duplicate parameter ${key}`);
    if (current.params.size >= MAX_PARAMS) throw bad('too many parameters');
    current.params.set(key, v);
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i < s.length && s[i] !== ',') throw bad(`expected "," after ${key}`);
  }
  return out;
}

function toChallenge(params: Map<string, string>): DigestChallenge | undefined {
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined || nonce === '') throw bad('realm and nonce are required');
  const algorithm = ALGORITHMS[(params.get('algorithm') ?? 'MD5').toLowerCase()];
  if (!algorithm) return undefined;
  const qop = (params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter((q): q is 'auth' | 'auth-int' => q === 'auth' || q === 'auth-int');
  if (params.has('qop') && qop.length === 0) return undefined;
  const opaque = params.get('opaque');
  return {
    realm, nonce, algorithm, qop,
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
    userhash: (params.get('userhash') ?? '').toLowerCase() === 'true',
    ...(opaque !== undefined ? { opaque } : {}),
  };
}

/** The strongest Digest challenge we can answer among the header values of a 401/407. */
export function chooseChallenge(headerValues: readonly string[]): DigestChallenge {
  let best: DigestChallenge | undefined;
  let seenDigest = false;
  for (const v of headerValues) {
    for (const c of parseAuthParams(v)) {
      if (c.scheme.toLowerCase() !== 'digest') continue;
      seenDigest = true;
      const ch = toChallenge(c.params);
      if (ch && (!best || STRENGTH[ch.algorithm] > STRENGTH[best.algorithm])) best = ch;
    }
  }
  if (!best) throw new DigestError('unsupported', seenDigest ? 'no Digest challenge with an algorithm and qop we support' : 'no Digest challenge');
  return best;
}
