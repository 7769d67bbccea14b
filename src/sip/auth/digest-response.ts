// Computing Digest credentials (RFC 7616 §3.4, RFC 3261 §22.4, RFC 8760; RFC 2069 without qop).
import { createHash, randomBytes } from 'node:crypto';
import type { DigestAlgorithm, DigestChallenge } from './digest-challenge.js';

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

export interface DigestRequest {
  readonly method: string;
  /** The Request-URI as sent (digest-uri). */
  readonly uri: string;
  readonly body?: Uint8Array;
}

const HASH: Record<DigestAlgorithm, string> = {
  MD5: 'md5', 'MD5-sess': 'md5', 'SHA-256': 'sha256', 'SHA-256-sess': 'sha256', 'SHA-512-256': 'sha512-256', 'SHA-512-256-sess': 'sha512-256',
};

export function digestHash(algorithm: DigestAlgorithm, data: string | Uint8Array): string {
  return createHash(HASH[algorithm]).update(data).digest('hex');
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export interface ComputeOptions {
  readonly nc: number;
  readonly cnonce?: string;
}

/** Returns the Authorization / Proxy-Authorization header value. */
export function computeAuthorization(ch: DigestChallenge, cred: DigestCredentials, req: DigestRequest, opts: ComputeOptions): string {
  const H = (d: string | Uint8Array) => digestHash(ch.algorithm, d);
  const qop = ch.qop.includes('auth') ? 'auth' : ch.qop.includes('auth-int') ? 'auth-int' : undefined;
  const cnonce = opts.cnonce ?? randomBytes(12).toString('hex');
  const nc = opts.nc.toString(16).padStart(8, '0');
  // RFC 7616 §3.4.4: with userhash the username itself is hashed.
  const username = ch.userhash ? H(`${cred.username}:${ch.realm}`) : cred.username;
  let ha1 = H(`${cred.username}:${ch.realm}:${cred.password}`);
  if (ch.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${ch.nonce}:${cnonce}`);
  const ha2 = qop === 'auth-int' ? H(`${req.method}:${req.uri}:${H(req.body ?? new Uint8Array(0))}`) : H(`${req.method}:${req.uri}`);
  const response = qop ? H(`${ha1}:${ch.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : H(`${ha1}:${ch.nonce}:${ha2}`);
  const parts = [
    `username=${quote(username)}`, `realm=${quote(ch.realm)}`, `nonce=${quote(ch.nonce)}`, `uri=${quote(req.uri)}`,
    `response=${quote(response)}`, `algorithm=${ch.algorithm}`,
  ];
  if (ch.opaque !== undefined) parts.push(`opaque=${quote(ch.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  if (ch.userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}
