// The typed events of the RTC client: the only way the phone and the web page hear about
// registrations and calls (DESIGN.md: they never see SIP messages).
import type { AlgEvidence } from './alg-detector.js';
import type { PublicRegistrationState } from './registration.js';
import type { SipAlgAvoidanceReport } from './sip-alg-avoidance.js';

export type SessionState = 'calling' | 'incoming' | 'early' | 'connected' | 'held' | 'ending' | 'ended';
export type SessionDirection = 'in' | 'out';

export interface RegistrationStateChanged {
  readonly profile: string;
  readonly state: PublicRegistrationState;
  readonly reason?: string;
  readonly expiresS: number;
  readonly contact?: string;
}

/** Why a session ended, mapped from SIP to something a person understands. */
export type EndReason =
  | 'hangup' | 'remote-hangup' | 'cancelled' | 'busy' | 'declined' | 'not-found' | 'unavailable'
  | 'no-answer' | 'rejected' | 'failed' | 'media-failed' | 'transferred' | 'timeout';

export interface SessionStateChanged {
  readonly session: string;
  readonly state: SessionState;
  readonly previous: SessionState;
  readonly direction: SessionDirection;
  readonly peer: string;
  /** Set when the state is 'ended'. */
  readonly endReason?: EndReason;
  /** The SIP status behind the change, when there was one (486, 603, ...). */
  readonly status?: number;
  readonly reasonPhrase?: string;
}

export interface IncomingCall {
  readonly session: string;
  readonly profile: string | undefined;
  readonly from: string;
  readonly displayName?: string;
  /** Another call is already up: the phone plays the call-waiting tone instead of ringing. */
  readonly waiting: boolean;
}

export interface MediaChanged {
  readonly session: string;
  readonly codec: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Media before the answer (183 with SDP). */
  readonly early: boolean;
}

/** A call's audio quality, once per RTCP report interval while it has media. */
export interface CallQualityChanged {
  readonly session: string;
  readonly codec: string;
  readonly jitterMs: number;
  /** Network loss plus packets that came too late to play, % of those expected. */
  readonly lossPercent: number;
  /** From RTCP; undefined until the peer reported on our sender report. */
  readonly rttMs?: number;
  /** ITU-T G.107 E-model R factor and its MOS (1..4.5). */
  readonly r: number;
  readonly mos: number;
}

export interface DtmfReceived {
  readonly session: string;
  readonly digit: string;
}

export interface TransferRequested {
  readonly session: string;
  readonly target: string;
}

export interface RtcError {
  readonly context: string;
  readonly message: string;
  readonly status?: number;
}

export type RtcEvents = {
  registrationStateChanged: RegistrationStateChanged;
  sessionStateChanged: SessionStateChanged;
  incomingCall: IncomingCall;
  mediaChanged: MediaChanged;
  callQuality: CallQualityChanged;
  dtmfReceived: DtmfReceived;
  transferRequested: TransferRequested;
  error: RtcError;
  /** A router rewrites our SIP (a SIP ALG); emitted once, with what showed it (alg-detector.ts). */
  sipAlgDetected: AlgEvidence;
  /** What a profile did about the SIP ALG: moved to a stream, or stayed on UDP (sip-alg-avoidance.ts). */
  sipAlgAvoidance: SipAlgAvoidanceReport;
};

/** RFC 3261 §21 statuses to end reasons for people (the issue: 480/404/603 mapped clearly). */
export function endReasonFor(status: number): EndReason {
  if (status === 486 || status === 600) return 'busy';
  if (status === 603) return 'declined';
  if (status === 404 || status === 604 || status === 484) return 'not-found';
  if (status === 480 || status === 410) return 'unavailable';
  if (status === 487) return 'cancelled';
  if (status === 408) return 'no-answer';
  if (status === 488 || status === 606) return 'media-failed';
  if (status >= 400 && status < 500) return 'rejected';
  return 'failed';
}
