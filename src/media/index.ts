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
  SEND_CHECK_EVERY,
  type RtpSessionOptions,
  type RtpSessionEvents,
  type RtpSessionCounters,
  type ReceivedRtpPacket,
  type DropReason,
} from './rtp-session.js';
export { RtpKeepalive, RTP_KEEPALIVE_DEFAULT_S, rtpKeepaliveIntervalMs, unusedPayloadType, type RtpKeepaliveAction } from './rtp-keepalive.js';
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
export {
  DTMF_DIGITS,
  TELEPHONE_EVENT_PAYLOAD_BYTES,
  TELEPHONE_EVENT_MAX_DURATION,
  TELEPHONE_EVENT_MAX_VOLUME,
  TELEPHONE_EVENT_MAX_CODE,
  TelephoneEventError,
  type TelephoneEventErrorCode,
  type TelephoneEvent,
  type DtmfDigit,
  dtmfEventCode,
  dtmfDigitOf,
  validateTelephoneEvent,
  encodeTelephoneEvent,
  decodeTelephoneEvent,
} from './telephone-event.js';
export {
  DtmfSender,
  DTMF_DEFAULT_MIN_DURATION_MS,
  DTMF_END_PACKET_SENDS,
  DTMF_DEFAULT_VOLUME,
  type DtmfSenderOptions,
  type DtmfSenderState,
  type DtmfSendAction,
} from './dtmf-sender.js';
export {
  DtmfReceiver,
  DTMF_RECEIVER_HISTORY,
  type DtmfReceiverPacket,
  type DtmfReceiveResult,
  type DtmfIgnoreReason,
} from './dtmf-receiver.js';
export {
  CODEC_IMPAIRMENTS,
  R_DEFAULT,
  type EModelCodec,
  type CodecImpairment,
  type RFactorInput,
  type CallQualityInput,
  type CallQuality,
  talkerEchoImpairment,
  listenerEchoImpairment,
  pureDelayImpairment,
  delayImpairment,
  effectiveEquipmentImpairment,
  rFactor,
  rToMos,
  callQuality,
} from './e-model.js';
export {
  AUDIO_FRAME_MS,
  AUDIO_SAMPLE_RATES_HZ,
  AudioDeviceError,
  samplesPerFrame,
  openCapture,
  openPlayback,
  type AlsaBackendOptions,
  type AudioCapture,
  type AudioCaptureEvents,
  type AudioCaptureStats,
  type AudioDeviceErrorCode,
  type AudioDeviceOptions,
  type AudioPlayback,
  type AudioPlaybackEvents,
  type AudioPlaybackStats,
  type AudioRestart,
  type AudioSampleRateHz,
  type CapturedFrame,
} from './audio-device.js';
export { captureRateFor } from './audio-device-rate.js';
export { AudioSpecError, type AudioSpecErrorCode, type AudioSpec, parseAudioSpec } from './audio-spec.js';
export { WavError, type WavErrorCode, type WavAudio, decodeWav, encodeWav } from './audio-wav.js';
export {
  AudioPipeline,
  AudioPipelineError,
  RTCP_INTERVAL_MS,
  type AudioPipelineErrorCode,
  type AudioPipelineEvents,
  type AudioPipelineOptions,
  type AudioPipelineStats,
  type AudioQualityReport,
  type AudioCodec,
  type AudioCodecName,
  type AudioJitterOptions,
  type AudioRtp,
} from './audio-pipeline.js';
export { type AudioSendStats } from './audio-pipeline-sender.js';
export { type AudioReceiveStats } from './audio-pipeline-receiver.js';
// audio-codec.ts calls its interface AudioCodec; audio-pipeline's AudioCodec (name + payload type)
// already has that name here, so the codec interface is exported as VoiceCodec.
export {
  CodecError,
  type CodecErrorCode,
  type CodecName,
  type AudioCodec as VoiceCodec,
} from './audio-codec.js';
export { createCodec, G711Codec, type CreateCodecOptions } from './codec-factory.js';
export {
  G722Encoder,
  G722Decoder,
  G722_SAMPLE_RATE_HZ,
  G722_RTP_CLOCK_RATE_HZ,
  G722_STATIC_PAYLOAD_TYPE,
  G722_BITRATE_BPS,
} from './g722.js';
export { G722Codec } from './g722-codec.js';
export {
  OpusCodec,
  OPUS_RTP_CLOCK_RATE_HZ,
  OPUS_MAX_PACKET_BYTES,
  opusWasmHeapBytes,
  opusPacketDurationMs,
  type OpusCodecOptions,
  type OpusSampleRateHz,
} from './opus-codec.js';
