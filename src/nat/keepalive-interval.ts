// How often to send NAT keep-alives (RFC 5626 §4.4 flow keep-alives), from the setting or from the
// binding lifetime RFC 5780 §4.6 measured. No I/O: the daemon and `nat-test` both ask this.
//
// The measured lifetime is the longest idle time a fresh binding survived, so it is at most the
// real one. Keep-alives are sent at 80-100 % of the nominal interval (RFC 5626 §4.4.1 jitter);
// a nominal interval of 45 % of the lifetime fits two of them inside it, so one lost keep-alive
// (UDP, nothing answers it in NAT mode) does not lose the binding.

/** nat.keepaliveIntervalS = 0: derive the interval; this is used while nothing is measured. */
export const KEEPALIVE_FALLBACK_S = 25;
export const KEEPALIVE_LIFETIME_FRACTION = 0.45;
/** Below this a keep-alive stream is a flood for the registrar, whatever the router does. */
export const KEEPALIVE_MIN_S = 1;
/** RFC 5626 §4.4.1 uses 95-120 s for streams; past this, a longer UDP interval saves next to nothing. */
export const KEEPALIVE_MAX_S = 120;

/**
 * Idle times the daemon probes a binding for (RFC 5780 §4.6), in parallel: dense where routers'
 * UDP timeouts are short, then the common 30/60/120/180 s. Probing stops one step past the first
 * expiry, so a 30 s router is measured in about 40 s.
 */
export const BINDING_LIFETIME_PROBES_S: readonly number[] = [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240];

export interface MeasuredLifetime {
  /** The longest idle time a binding survived (0: none did). */
  readonly bindingLifetimeS: number;
  /** The shortest idle time after which it was gone (absent: it outlived every probe). */
  readonly bindingExpiredS?: number;
}

export interface KeepaliveChoice {
  readonly intervalS: number;
  readonly source: 'setting' | 'measured' | 'fallback';
  readonly reason: string;
}

export function keepaliveInterval(settingS: number, measured: MeasuredLifetime | undefined): KeepaliveChoice {
  if (settingS > 0) return { intervalS: settingS, source: 'setting', reason: `nat.keepaliveIntervalS is ${settingS} s` };
  if (!measured) {
    return { intervalS: KEEPALIVE_FALLBACK_S, source: 'fallback', reason: `binding lifetime not measured (yet): ${KEEPALIVE_FALLBACK_S} s` };
  }
  const lifetime = measured.bindingLifetimeS;
  const raw = Math.floor(lifetime * KEEPALIVE_LIFETIME_FRACTION * 10) / 10;
  const intervalS = Math.min(KEEPALIVE_MAX_S, Math.max(KEEPALIVE_MIN_S, raw));
  const life = measured.bindingExpiredS !== undefined ? `${lifetime} s (gone after ${measured.bindingExpiredS} s)` : `at least ${lifetime} s`;
  const bound = intervalS !== raw ? ` (bounded to ${KEEPALIVE_MIN_S}-${KEEPALIVE_MAX_S} s)` : '';
  return { intervalS, source: 'measured', reason: `binding lifetime ${life}: ${Math.round(KEEPALIVE_LIFETIME_FRACTION * 100)} % of it is ${intervalS} s${bound}` };
}
