// RFC 6263 media keep-alives of one RTP stream, as a pure machine: whenever nothing has been sent
// on the media socket for the interval Tr — a call on hold (recvonly or inactive), a far end that
// only sends, early media before we send — one keep-alive goes out, so the NAT binding of our RTP
// port outlives the router's UDP timeout and the peer's media still reaches us on resume.
//
// The format. RFC 6263 §6 recommends an RTCP packet on the multiplexed port when rtcp-mux is in
// use (§4.3) and an RTP packet with a payload type the session does not use for media otherwise
// (§4.6: our SSRC, the next sequence number, the stream's timestamp, no payload; a receiver
// discards a payload type it does not know, RFC 3550 §5.1). With rtcp-mux the call's own RTCP
// reports (every RTCP_INTERVAL_MS, on the RTP port, and they go on during hold) are that §4.3
// traffic: the machine counts every datagram the session sends, RTCP included, as "sent", so it
// only adds §4.6 packets when the interval is shorter than the RTCP interval or RTCP is off —
// without rtcp-mux we have no RTCP socket at all (SessionMedia offers rtcp-mux only), so then
// the §4.6 packets are the only keep-alive.
//
// The interval. §6: Tr is configurable and 15 s by default. The SIP flow's keep-alive interval
// (nat.keepaliveIntervalS, else 45 % of the measured binding lifetime, 25 s until measured) is
// about the same router, so the media interval is the shorter of the two: a router measured to
// drop idle bindings after 10 s gets 4.5 s, and while nothing is measured the RFC's 15 s wins over
// the SIP fallback. One 12-byte packet per interval on a held call costs nothing worth saving.
// No jitter: unlike registrations, calls do not start in lock-step.

/** RFC 6263 §6: the default Tr. */
export const RTP_KEEPALIVE_DEFAULT_S = 15;

/** RFC 3551 §6 / RFC 5761 §4: dynamic payload types; 64-95 would collide with RTCP under rtcp-mux. */
const DYNAMIC_PT_MIN = 96;
const DYNAMIC_PT_MAX = 127;

export type RtpKeepaliveAction =
  /** Send one keep-alive packet now. */
  | { readonly kind: 'send' }
  | { readonly kind: 'wakeAt'; readonly atMs: number };

/** The media interval: the shorter of Tr and the SIP flow's derived interval (0 or absent: Tr alone). */
export function rtpKeepaliveIntervalMs(flowIntervalS: number | undefined): number {
  const s = flowIntervalS !== undefined && flowIntervalS > 0 ? Math.min(RTP_KEEPALIVE_DEFAULT_S, flowIntervalS) : RTP_KEEPALIVE_DEFAULT_S;
  return s * 1000;
}

/**
 * §4.6: a payload type "not used for media in the session" — the highest dynamic one that neither
 * side listed. Throws RangeError when all 32 are taken (no SDP of ours lists that many).
 */
export function unusedPayloadType(used: Iterable<number>): number {
  const taken = new Set(used);
  for (let pt = DYNAMIC_PT_MAX; pt >= DYNAMIC_PT_MIN; pt--) if (!taken.has(pt)) return pt;
  throw new RangeError('every dynamic payload type is in use');
}

export class RtpKeepalive {
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  /** The later of the start and the last keep-alive: what "idle since" counts from when nothing else was sent. */
  private sinceMs = 0;

  constructor(readonly intervalMs: number) {
    if (!(intervalMs > 0)) throw new RangeError(`keep-alive interval must be positive, got ${intervalMs}`);
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /**
   * `lastSentMs`: when the session last sent anything, if it did — a machine that replaces one
   * with another interval mid-call counts the idle time from there, so a shorter interval that has
   * already passed sends at once.
   */
  start(nowMs: number, lastSentMs?: number): RtpKeepaliveAction[] {
    this.state = 'running';
    this.sinceMs = Math.min(nowMs, lastSentMs ?? nowMs);
    return [{ kind: 'wakeAt', atMs: this.sinceMs + this.intervalMs }];
  }

  /**
   * The timer fired. `lastSentMs` is when the session last sent anything on the media socket
   * (RTP, muxed RTCP, or a keep-alive), undefined if never.
   */
  wake(nowMs: number, lastSentMs: number | undefined): RtpKeepaliveAction[] {
    if (this.state !== 'running') return [];
    const idleSince = Math.max(this.sinceMs, lastSentMs ?? -Infinity);
    if (nowMs - idleSince < this.intervalMs) return [{ kind: 'wakeAt', atMs: idleSince + this.intervalMs }];
    this.sinceMs = nowMs;
    return [{ kind: 'send' }, { kind: 'wakeAt', atMs: nowMs + this.intervalMs }];
  }

  /** The call ended: no more keep-alives, whatever wakes it. */
  stop(): void {
    this.state = 'stopped';
  }
}
