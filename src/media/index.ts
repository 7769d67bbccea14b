// The media layer's public surface (STYLE.md: small public surfaces). The latch, the
// reception statistics and the packetizer are internals of RtpSession.
export {
  RTP_VERSION,
  RTP_FIXED_HEADER_BYTES,
  RtpError,
  type RtpErrorCode,
  type RtpExtension,
  type RtpHeader,
  type RtpPacket,
  type RtpPacketInit,
  decodeRtp,
  encodeRtp,
  isRtcp,
} from './rtp-packet.js';
export {
  RTCP_SR,
  RTCP_RR,
  RTCP_SDES,
  RTCP_BYE,
  RtcpError,
  type RtcpErrorCode,
  type RtcpPacket,
  type ReportBlock,
  type SenderInfo,
  type SdesChunk,
  parseRtcp,
  encodeRtcp,
  buildRtcpReport,
  buildRtcpBye,
} from './rtcp-packet.js';
export { linearToUlaw, ulawToLinear, linearToAlaw, alawToLinear, encodeUlaw, decodeUlaw, encodeAlaw, decodeAlaw } from './g711.js';
export { type TransportAddress } from './rtp-latch.js';
export { type RtpStreamStart } from './rtp-packetizer.js';
export {
  RtpSession,
  type RtpSessionOptions,
  type RtpSessionEvents,
  type RtpSessionCounters,
  type ReceivedRtpPacket,
  type DropReason,
} from './rtp-session.js';
export { PacketPacer, type PacketPacerOptions, type PacerTick } from './packet-pacer.js';
export { SineSource, type SineSourceOptions } from './sine-source.js';
export { goertzelAmplitude } from './goertzel.js';
export {
  JitterBuffer,
  type JitterBufferOptions,
  type JitterBufferOutput,
  type JitterBufferStats,
  type JitterPacket,
  type JitterPutVerdict,
} from './jitter-buffer.js';
export { PlayoutDelayEstimator, type PlayoutDelayOptions } from './playout-delay-estimator.js';
export { PacketLossConcealer, PLC_DELAY_SAMPLES, PLC_SAMPLE_RATE_HZ } from './packet-loss-concealment.js';
export {
  ToneError,
  type ToneErrorCode,
  type ToneSegment,
  type ToneSpec,
  type RingCadence,
  type RingCadenceSegment,
  parseTone,
  parseRingCadence,
  isRinging,
} from './tones.js';
export { ToneGenerator, type ToneGeneratorOptions, dbm0ToPeak, DEFAULT_TONE_LEVEL_DBM0 } from './tone-generator.js';
export {
  TONE_PLANS,
  TONE_PLAN_COUNTRIES,
  TONE_NAMES,
  type ToneCountry,
  type ToneName,
  type TonePlan,
  type ParsedTonePlan,
  tonePlanFor,
} from './tone-plans.js';
