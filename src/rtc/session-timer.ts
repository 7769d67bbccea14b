// RFC 4028 session timers as a pure machine: the refresher sends a re-INVITE or UPDATE at half
// the interval (§10); the other side ends the call with BYE when no refresh has come by the
// interval minus min(32 s, interval/3) (§10).

export const MIN_SE_S = 90;

export type SessionTimerAction = { kind: 'refresh' } | { kind: 'expired' } | { kind: 'wakeAt'; atMs: number };

export interface SessionExpires {
  readonly intervalS: number;
  readonly refresher?: 'uac' | 'uas';
}

/** `Session-Expires: 1800;refresher=uac` (also the compact form x:). */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})\s*((?:;[^;]*)*)$/.exec(value);
  if (!m) return undefined;
  const intervalS = Number(m[1]);
  const r = /;\s*refresher\s*=\s*(uac|uas)\s*(?:;|$)/i.exec(m[2] ?? '');
  const refresher = r?.[1]?.toLowerCase() as 'uac' | 'uas' | undefined;
  return refresher ? { intervalS, refresher } : { intervalS };
}

export class SessionTimer {
  constructor(
    readonly intervalS: number,
    /** Whether we send the refreshes. */
    readonly weRefresh: boolean,
  ) {}

  /** The session was established or refreshed now. */
  refreshed(nowMs: number): SessionTimerAction[] {
    const s = this.intervalS;
    const atMs = this.weRefresh ? nowMs + (s / 2) * 1000 : nowMs + (s - Math.min(32, s / 3)) * 1000;
    return [{ kind: 'wakeAt', atMs }];
  }

  wake(): SessionTimerAction[] {
    return [{ kind: this.weRefresh ? 'refresh' : 'expired' }];
  }
}
