// The codec of one call as the pipeline sees it: the negotiated name and payload type, the codec
// instance each half of the pipeline owns (codec-factory.ts), and what a payload says about
// itself (its duration, whether it is quiet) without disturbing that instance's state.
import type { AudioCodec as VoiceCodec, CodecName } from './audio-codec.js';
import type { AudioSampleRateHz } from './audio-types.js';
import { createCodec } from './codec-factory.js';
import { alawToLinear, ulawToLinear } from './g711.js';
import { opusPacketDurationMs } from './opus-codec.js';

export type AudioCodecName = CodecName;

/** The negotiated codec and the payload type the peer listed for it. */
export interface AudioCodec {
  readonly name: AudioCodecName;
  readonly payloadType: number;
}

/**
 * A codec instance for one direction of a call whose devices run at `deviceRateHz`. G.711 is
 * 8 kHz and G.722 16 kHz whatever the devices do (the pipeline resamples); Opus takes the
 * device's rate, which it codes natively, so it never needs resampling.
 */
export function openVoiceCodec(name: AudioCodecName, deviceRateHz: AudioSampleRateHz): VoiceCodec {
  return createCodec(name, name === 'opus' ? { opus: { sampleRateHz: deviceRateHz } } : {});
}

/**
 * The audio a payload carries, in ms, or undefined if it does not say: G.711 has one octet per
 * 8 kHz sample and G.722 one per pair of 16 kHz samples (8 octets per ms either way); an Opus
 * packet tells in its TOC byte.
 */
export function payloadDurationMs(name: AudioCodecName, payload: Uint8Array): number | undefined {
  return name === 'opus' ? opusPacketDurationMs(payload) : payload.length / 8;
}

/** A frame this quiet (peak under −50 dBov) may be dropped unheard when the jitter buffer shrinks. */
const QUIET_PEAK = 100;

/**
 * Whether a payload is near silence, read straight from the code words: only G.711 allows that
 * (a G.722 or Opus payload means nothing without its decoder's state), so others are never quiet.
 */
export function isQuietPayload(name: AudioCodecName, payload: Uint8Array): boolean {
  if (name !== 'PCMU' && name !== 'PCMA') return false;
  const toLinear = name === 'PCMA' ? alawToLinear : ulawToLinear;
  for (const code of payload) if (Math.abs(toLinear(code)) >= QUIET_PEAK) return false;
  return true;
}
