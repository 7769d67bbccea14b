// The RTC layer's public surface: the client, its profiles and sessions, and their events.
export { RtcClient, type RtcClientOptions, type CallSettings } from './client.js';
export { Profile, ProfileError, type ProfileConfig } from './profile.js';
export { Session, SessionError } from './session.js';
export { ENCODABLE_CODECS, type MediaSettings } from './session-media.js';
export { Registration, type PublicRegistrationState } from './registration.js';
export { ALG_ADVICE, type AlgEvidence, type AlgEvidenceKind } from './alg-detector.js';
export { probeSipAlg, type AlgProbeResult } from './alg-probe.js';
export { type SipAlgAvoidanceMode, type SipAlgAvoidanceReport, type SipAlgAvoidanceState } from './sip-alg-avoidance.js';
export {
  endReasonFor, type EndReason, type RtcEvents, type SessionState, type SessionDirection, type RegistrationStateChanged,
  type SessionStateChanged, type IncomingCall, type MediaChanged, type CallQualityChanged, type DtmfReceived, type TransferRequested, type RtcError,
} from './rtc-events.js';
export { MediaError, type SessionMediaEvents } from './session-media.js';
