// RFC 3261 §10.2 registration of one profile, as a pure machine: REGISTER, refresh before the
// granted expiry runs out, 423 Interval Too Brief (§10.2.8), back-off after failures in the
// style of RFC 5626 §4.5, re-REGISTER when our address changes, un-REGISTER on shutdown.
// The driver (profile.ts) sends what it is told and feeds responses and wake-ups back.

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'refreshing' | 'backoff' | 'unregistering';

/** The four states the RTC API and /api/status show (DESIGN.md). */
export type PublicRegistrationState = 'unregistered' | 'registering' | 'registered' | 'failed';

export type RegistrationAction =
  /** Send REGISTER with this expiry; `removeOld` also removes the previous Contact (expires=0). */
  | { kind: 'send'; expiresS: number; removeOld: boolean }
  | { kind: 'wakeAt'; atMs: number }
  | { kind: 'state'; state: PublicRegistrationState; reason?: string; expiresS?: number };

export interface RegistrationResponse {
  readonly status: number;
  readonly reason: string;
  /** The expiry the registrar granted our Contact (its expires param, else Expires). */
  readonly grantedS?: number | undefined;
  /** Min-Expires of a 423. */
  readonly minExpiresS?: number | undefined;
  /** Retry-After of a 5xx/4xx. */
  readonly retryAfterS?: number | undefined;
}

export interface RegistrationOptions {
  readonly expiresS: number;
  /** RFC 5626 §4.5 base-time and max-time. */
  readonly backoffBaseS?: number;
  readonly backoffMaxS?: number;
  /** 0..1, for the back-off's random part (tests pass a fixed value). */
  readonly random?: () => number;
}

/** §10.2.8: a 423 asks for more than this and we give up. */
const MAX_EXPIRES_S = 86_400;

export class RegistrationError extends Error {
  constructor(readonly from: RegistrationState, readonly event: string) {
    super(`registration: ${event} is not allowed in state ${from}`);
    this.name = 'RegistrationError';
  }
}

export class Registration {
  private stateNow: RegistrationState = 'idle';
  private requestedS: number;
  private failures = 0;
  private grantedS = 0;
  private stopping = false;

  constructor(private readonly options: RegistrationOptions) {
    this.requestedS = options.expiresS;
  }

  get state(): RegistrationState {
    return this.stateNow;
  }

  get publicState(): PublicRegistrationState {
    switch (this.stateNow) {
      case 'idle':
        return 'unregistered';
      case 'registering':
      case 'unregistering':
        return 'registering';
      case 'registered':
      case 'refreshing':
        return 'registered';
      case 'backoff':
        return 'failed';
    }
  }

  /** Seconds the registrar granted last time (0 when not registered). */
  get expiresS(): number {
    return this.stateNow === 'registered' || this.stateNow === 'refreshing' ? this.grantedS : 0;
  }

  start(): RegistrationAction[] {
    if (this.stateNow !== 'idle') throw new RegistrationError(this.stateNow, 'start');
    this.stopping = false;
    this.stateNow = 'registering';
    return [{ kind: 'state', state: 'registering' }, { kind: 'send', expiresS: this.requestedS, removeOld: false }];
  }

  /** A final response to the REGISTER in flight (digest retries happen below this machine). */
  response(res: RegistrationResponse, nowMs: number): RegistrationAction[] {
    switch (this.stateNow) {
      case 'registering':
      case 'refreshing':
        break;
      case 'unregistering':
        this.stateNow = 'idle';
        return [{ kind: 'state', state: 'unregistered', reason: res.status < 300 ? 'unregistered' : `${res.status} ${res.reason}` }];
      default:
        return []; // a late answer to a REGISTER we no longer wait for
    }
    if (res.status >= 200 && res.status < 300) {
      const granted = res.grantedS ?? this.requestedS;
      if (granted <= 0) return this.fail(`registrar granted no expiry (${res.status} ${res.reason})`, nowMs, undefined);
      this.failures = 0;
      this.grantedS = granted;
      this.stateNow = 'registered';
      // Refresh at half the granted time (the issue: at most half), never sooner than 1 s.
      return [{ kind: 'state', state: 'registered', expiresS: granted }, { kind: 'wakeAt', atMs: nowMs + Math.max(1, granted / 2) * 1000 }];
    }
    if (res.status === 423 && res.minExpiresS !== undefined && res.minExpiresS > this.requestedS && res.minExpiresS <= MAX_EXPIRES_S) {
      this.requestedS = res.minExpiresS;
      return [{ kind: 'send', expiresS: this.requestedS, removeOld: false }];
    }
    return this.fail(`${res.status} ${res.reason}`, nowMs, res.retryAfterS);
  }

  /** No final response (Timer F) or the transport failed. */
  timeout(reason: string, nowMs: number): RegistrationAction[] {
    if (this.stateNow === 'unregistering') {
      this.stateNow = 'idle';
      return [{ kind: 'state', state: 'unregistered', reason }];
    }
    if (this.stateNow !== 'registering' && this.stateNow !== 'refreshing') return [];
    return this.fail(reason, nowMs, undefined);
  }

  /** The refresh or back-off time has come. */
  wake(): RegistrationAction[] {
    switch (this.stateNow) {
      case 'registered':
        this.stateNow = 'refreshing';
        return [{ kind: 'send', expiresS: this.requestedS, removeOld: false }];
      case 'backoff':
        this.stateNow = 'registering';
        return [{ kind: 'state', state: 'registering' }, { kind: 'send', expiresS: this.requestedS, removeOld: false }];
      default:
        return [];
    }
  }

  /** Our Contact changed (new local address or public mapping): register the new one now. */
  addressChanged(): RegistrationAction[] {
    switch (this.stateNow) {
      case 'registered':
      case 'refreshing':
        this.stateNow = 'refreshing';
        return [{ kind: 'send', expiresS: this.requestedS, removeOld: true }];
      case 'backoff':
        this.stateNow = 'registering';
        return [{ kind: 'state', state: 'registering' }, { kind: 'send', expiresS: this.requestedS, removeOld: false }];
      default:
        return [];
    }
  }

  /** Shutdown or the account was disabled: un-REGISTER if we hold a binding. */
  stop(): RegistrationAction[] {
    if (this.stopping) return [];
    this.stopping = true;
    switch (this.stateNow) {
      case 'registered':
      case 'refreshing':
      case 'registering':
        this.stateNow = 'unregistering';
        return [{ kind: 'send', expiresS: 0, removeOld: false }];
      case 'backoff':
      case 'idle':
        this.stateNow = 'idle';
        return [{ kind: 'state', state: 'unregistered', reason: 'stopped' }];
      case 'unregistering':
        return [];
    }
  }

  /** The delay RFC 5626 §4.5 asks for after `failures` consecutive failures. */
  backoffMs(failures: number): number {
    const base = this.options.backoffBaseS ?? 30;
    const max = this.options.backoffMaxS ?? 1800;
    const upper = Math.min(max, base * 2 ** Math.min(failures, 20));
    const r = (this.options.random ?? Math.random)();
    return (upper / 2 + (upper / 2) * r) * 1000; // between 50 % and 100 % of the upper bound
  }

  private fail(reason: string, nowMs: number, retryAfterS: number | undefined): RegistrationAction[] {
    this.failures++;
    this.grantedS = 0;
    this.stateNow = 'backoff';
    const waitMs = retryAfterS !== undefined && retryAfterS > 0 ? retryAfterS * 1000 : this.backoffMs(this.failures);
    return [{ kind: 'state', state: 'failed', reason }, { kind: 'wakeAt', atMs: nowMs + waitMs }];
  }
}
