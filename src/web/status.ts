// The shape of GET /api/status (DESIGN.md "Interfaces"). Later layers fill registrations, NAT and calls.
import type { SessionState } from '../rtc/index.js';

export interface RegistrationStatus {
  account: string;
  state: 'unregistered' | 'registering' | 'registered' | 'failed';
  contact: string | null;
  expiresS: number | null;
}

export interface CallStatus {
  id: string;
  direction: 'in' | 'out';
  state: 'calling' | 'incoming' | 'early' | 'connected' | 'held' | 'ending';
  peer: string;
  codec: string | null;
  path: string | null;
  rtp: { sent: number; received: number; lost: number; jitterMs: number };
  /** The call's audio quality as of this request; null until its audio runs. */
  quality: CallQualityStatus | null;
}

export interface CallQualityStatus {
  /** RFC 3550 interarrival jitter of the peer's stream. */
  jitterMs: number;
  /** Network loss plus packets too late to play, % of those expected. */
  lossPercent: number;
  /** Round trip from RTCP; null until the peer has reported on ours. */
  rttMs: number | null;
  /** ITU-T G.107 E-model R factor and MOS (1..4.5). */
  r: number;
  mos: number;
}

/** The parts of an RTC session the status reads (Session has them; tests can build one). */
export interface CallView {
  readonly id: string;
  readonly direction: 'in' | 'out';
  readonly state: SessionState;
  readonly peer: string;
  readonly media?: {
    readonly negotiated?: { readonly codec: { readonly name: string }; readonly remoteAddress: string; readonly remoteRtpPort: number } | undefined;
    readonly counters: { readonly sent: number; readonly received: number; readonly lost: number };
    readonly jitterMs: number;
    qualityReport(): { readonly jitterMs: number; readonly lossPercent: number; readonly rttMs: number | undefined; readonly r: number; readonly mos: number } | undefined;
  } | undefined;
}

/** Every call that has not ended, with its codec and current quality, for GET /api/status. */
export function callsStatus(calls: readonly CallView[]): CallStatus[] {
  return calls.flatMap((c) => (c.state === 'ended' ? [] : [callStatus(c, c.state)]));
}

function callStatus(c: CallView, state: CallStatus['state']): CallStatus {
  const media = c.media;
  const n = media?.negotiated;
  const q = media?.qualityReport();
  return {
    id: c.id, direction: c.direction, state, peer: c.peer,
    codec: n?.codec.name ?? null,
    path: n ? `${n.remoteAddress}:${n.remoteRtpPort}` : null,
    rtp: { sent: media?.counters.sent ?? 0, received: media?.counters.received ?? 0, lost: media?.counters.lost ?? 0, jitterMs: tenths(media?.jitterMs ?? 0) },
    quality: q ? { jitterMs: tenths(q.jitterMs), lossPercent: tenths(q.lossPercent), rttMs: q.rttMs === undefined ? null : tenths(q.rttMs), r: tenths(q.r), mos: Math.round(q.mos * 100) / 100 } : null,
  };
}

function tenths(x: number): number {
  return Math.round(x * 10) / 10;
}

/** NAT behaviour discovery (RFC 5780) as the daemon last ran it. */
export interface NatDiscoveryStatus {
  /** off, discovering, measuring (binding lifetime), done, failed. */
  state: string;
  /** Why it is off, or what failed. */
  reason: string | null;
  server: string | null;
  trigger: string | null;
  /** RFC 3489 class: open, full-cone, restricted-cone, port-restricted-cone, symmetric, udp-blocked. */
  natType: string | null;
  mapping: string | null;
  filtering: string | null;
  publicAddress: string | null;
  localAddress: string | null;
  bindingLifetimeS: number | null;
  bindingExpiredS: number | null;
  /** ISO 8601 time the class was measured. */
  measuredAt: string | null;
  verdictMs: number | null;
  bindingLifetimeMs: number | null;
}

/** The keep-alive interval in use for SIP flows, and where it came from. */
export interface NatKeepaliveStatus {
  intervalS: number;
  /** setting (nat.keepaliveIntervalS), measured (binding lifetime), fallback (not measured). */
  source: string;
  reason: string;
  /** Per account, the nominal interval running (null: none; the registrar's Flow-Timer wins). */
  running: Array<{ account: string; intervalS: number | null }>;
}

export interface NatStatus {
  strategy: string;
  /** The RFC 3489 class discovery measured (null: not run, or not yet). */
  natType: string | null;
  publicAddress: string | null;
  mappings: unknown[];
  /** The port manager's choice for the SIP socket and why. */
  decision?: { strategy: string; via: string | null; reason: string };
  discovery?: NatDiscoveryStatus;
  keepalive?: NatKeepaliveStatus;
  /** A router rewrites our SIP (SIP ALG), and what showed it. */
  alg?: boolean;
  algEvidence?: { kind: string; method: string; server: string; sent: string; seen: string } | null;
  /** What each account did about it (nat.sipAlgAvoidance): moved to TCP/TLS, or stayed on UDP. */
  algAvoidance?: Array<{ profile: string; state: string; transport: string; reason: string }>;
}

export interface Status {
  version: string;
  uptimeS: number;
  board: string;
  setupRequired: boolean;
  phone: { state: string };
  registrations: RegistrationStatus[];
  nat: NatStatus;
  calls: CallStatus[];
  problems: string[];
}

/** Parts of the status that services outside the web layer provide. */
export interface StatusSource {
  registrations(): RegistrationStatus[];
  nat(): NatStatus;
  calls(): CallStatus[];
  phoneState(): string;
  problems(): string[];
}
