// One credential set answering challenges for a registration or a dialog: bounded retries, stale
// nonces, nonce counting and pre-emptive reuse of the last nonce (RFC 3261 §22.2-22.4, RFC 7616).
import { DigestError, chooseChallenge, type DigestChallenge } from './digest-challenge.js';
import { computeAuthorization, type DigestCredentials, type DigestRequest } from './digest-response.js';

export type DigestDecision =
  | { kind: 'retry'; header: 'Authorization' | 'Proxy-Authorization'; value: string }
  | { kind: 'fail'; reason: string; error: DigestError };

export class DigestChallengeState {
  private challenge: DigestChallenge | undefined;
  private header: 'Authorization' | 'Proxy-Authorization' = 'Authorization';
  private nc = 0;
  private retries = 0;
  private lastNonceFailed: string | undefined;

  constructor(
    private readonly credentials: DigestCredentials,
    private readonly maxRetries = 3,
    private readonly cnonce?: () => string,
  ) {}

  /**
   * A 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) arrived for `req`.
   * The same nonce challenged again without stale=true means the password is wrong.
   */
  onChallenge(status: 401 | 407, headerValues: readonly string[], req: DigestRequest): DigestDecision {
    let ch: DigestChallenge;
    try {
      ch = chooseChallenge(headerValues);
    } catch (err) {
      const e = err instanceof DigestError ? err : new DigestError('bad-challenge', String(err));
      return { kind: 'fail', reason: e.message, error: e };
    }
    const sameNonce = this.challenge !== undefined && this.challenge.nonce === ch.nonce && this.challenge.realm === ch.realm;
    if ((sameNonce && !ch.stale) || this.lastNonceFailed === ch.nonce) {
      const error = new DigestError('wrong-credentials', `the server rejected our credentials for realm "${ch.realm}"`);
      this.lastNonceFailed = ch.nonce;
      return { kind: 'fail', reason: error.message, error };
    }
    // stale=true: a new nonce, same password — not counted as a failure (RFC 7616 §3.3).
    if (!ch.stale) this.retries++;
    if (this.retries > this.maxRetries) {
      const error = new DigestError('too-many-retries', `gave up after ${this.maxRetries} authentication attempts`);
      return { kind: 'fail', reason: error.message, error };
    }
    this.challenge = ch;
    this.header = status === 407 ? 'Proxy-Authorization' : 'Authorization';
    this.nc = 0;
    return { kind: 'retry', header: this.header, value: this.next(req) };
  }

  /** Credentials for a later request with the last nonce (nc increases), or undefined before any challenge. */
  preemptive(req: DigestRequest): { header: 'Authorization' | 'Proxy-Authorization'; value: string } | undefined {
    if (!this.challenge) return undefined;
    return { header: this.header, value: this.next(req) };
  }

  /** A request succeeded: the retry budget starts over. */
  onSuccess(): void {
    this.retries = 0;
    this.lastNonceFailed = undefined;
  }

  private next(req: DigestRequest): string {
    const ch = this.challenge as DigestChallenge;
    this.nc++;
    return computeAuthorization(ch, this.credentials, req, { nc: this.nc, ...(this.cnonce ? { cnonce: this.cnonce() } : {}) });
  }
}
