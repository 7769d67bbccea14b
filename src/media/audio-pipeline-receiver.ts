// The receiving half of one call's audio, without I/O: RTP packets go to the DTMF receiver
// (telephone-event) or the jitter buffer (audio); the playout clock asks for one frame per
// packet time, which is decoded, or concealed when it is missing, then resampled to the
// speaker's rate if the codec's PCM rate is another. Concealment: Opus's own decoder; for
// G.711 and G.722 the G.711 Appendix I concealer, which for G.722 runs on the 16 kHz samples:
// its pitch search then spans 2.5–7.5 ms and its fade-out 30 ms, coarser than at 8 kHz (a low
// voice repeats two periods' worth less well) until G.722's own Appendix III/IV concealment
// replaces it.
//
// Three details of a real stream:
// - The jitter buffer needs one packet duration. It is the duration of the first audio packet
//   that arrives (a peer may send 30 ms although we asked for 20), else the negotiated ptime.
// - The jitter buffer counts in the codec's RTP clock: 8000 Hz for G.711 and G.722 (RFC 3551
//   §4.5.2), 48000 Hz for Opus (RFC 7587 §4.1).
// - RFC 4733 §2.2.1: events share the audio's sequence numbers. The jitter buffer is given audio
//   numbered without them, so the audio after a key press looks like the end of a silence gap
//   (RFC 3551 §4.1), not like the loss of the event's packets.
import type { AudioCodec as VoiceCodec } from './audio-codec.js';
import { isQuietPayload, openVoiceCodec, payloadDurationMs, type AudioCodec } from './audio-pipeline-codec.js';
import { Resampler } from './audio-pipeline-resampler.js';
import { AUDIO_SAMPLE_RATE_HZ } from './audio-pipeline-sender.js';
import type { AudioSampleRateHz } from './audio-types.js';
import { DtmfReceiver } from './dtmf-receiver.js';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats } from './jitter-buffer.js';
import { PacketLossConcealer } from './packet-loss-concealment.js';
import type { RtpPacket } from './rtp-packet.js';
import type { DtmfDigit } from './telephone-event.js';

/** Jitter buffer settings a pipeline may tune; the frame length and clock rate follow the stream. */
export type AudioJitterOptions = Omit<JitterBufferOptions, 'frameMs' | 'clockRateHz' | 'isQuiet'>;

export interface AudioReceivePathOptions {
  readonly codec: AudioCodec;
  readonly telephoneEventPt?: number;
  /** The negotiated packet time: the frame length until the first audio packet tells. */
  readonly ptimeMs: number;
  /** The speaker's rate; default 8000. */
  readonly sampleRateHz?: AudioSampleRateHz;
  readonly jitter?: AudioJitterOptions;
}

export type ReceivablePacket = Pick<RtpPacket, 'payloadType' | 'sequenceNumber' | 'timestamp' | 'ssrc' | 'marker' | 'payload'> & {
  readonly arrivalMs: number;
};

export interface AudioReceiveStats {
  readonly jitterBuffer: JitterBufferStats;
  readonly frameMs: number;
  readonly audioPackets: number;
  readonly dtmfPackets: number;
  readonly dtmfDigits: number;
  /** Packets with a payload type that is neither the codec nor telephone-event. */
  readonly ignored: number;
  /** Payloads the decoder refused (corrupt Opus packets), played as concealment. */
  readonly undecodable: number;
}

/** One codec instance with its concealer and resampler; replaced whole when the codec changes. */
interface Decoding {
  readonly codec: AudioCodec;
  readonly voice: VoiceCodec;
  /** Absent when the codec conceals for itself (Opus). */
  readonly plc: PacketLossConcealer | undefined;
  readonly resampler: Resampler;
}

export class AudioReceivePath {
  private decoding: Decoding;
  private telephoneEventPt: number | undefined;
  private readonly deviceRateHz: AudioSampleRateHz;
  private frameMsNow: number;
  private jitter: JitterBuffer;
  private audioSeen = false;
  private readonly dtmf = new DtmfReceiver();
  /** Telephone-event packets of the current source, taken out of the audio's sequence numbers. */
  private eventPackets = 0;
  private ssrc: number | undefined;
  private counts = { audioPackets: 0, dtmfPackets: 0, dtmfDigits: 0, ignored: 0, undecodable: 0 };

  constructor(private readonly opts: AudioReceivePathOptions) {
    this.deviceRateHz = opts.sampleRateHz ?? AUDIO_SAMPLE_RATE_HZ;
    this.decoding = this.openDecoding(opts.codec);
    this.telephoneEventPt = opts.telephoneEventPt;
    this.frameMsNow = opts.ptimeMs;
    this.jitter = this.newJitterBuffer();
  }

  /** The playout period: call playout() once per frameMs. */
  get frameMs(): number {
    return this.frameMsNow;
  }

  get stats(): AudioReceiveStats {
    return { jitterBuffer: this.jitter.stats, frameMs: this.frameMsNow, ...this.counts };
  }

  /** A renegotiation: another payload type keeps the stream; another codec starts a new one (its frames differ). */
  setCodec(codec: AudioCodec, telephoneEventPt: number | undefined): void {
    this.telephoneEventPt = telephoneEventPt;
    const old = this.decoding;
    if (codec.name === old.codec.name) {
      this.decoding = { ...old, codec };
      return;
    }
    this.decoding = this.openDecoding(codec);
    old.voice.close();
    this.audioSeen = false;
    this.frameMsNow = this.opts.ptimeMs;
    this.jitter = this.newJitterBuffer();
  }

  /** Frees the codec (Opus holds WASM memory). */
  close(): void {
    this.decoding.voice.close();
  }

  /** Takes one packet; returns the digit of a key press it starts. */
  receive(packet: ReceivablePacket): DtmfDigit | undefined {
    if (packet.ssrc !== this.ssrc) {
      this.ssrc = packet.ssrc;
      this.eventPackets = 0;
    }
    if (packet.payloadType === this.telephoneEventPt) {
      this.counts.dtmfPackets++;
      this.eventPackets++;
      const r = this.dtmf.receive(packet);
      if (r.kind !== 'digit') return undefined;
      this.counts.dtmfDigits++;
      return r.digit;
    }
    if (packet.payloadType !== this.decoding.codec.payloadType) {
      this.counts.ignored++;
      return undefined;
    }
    if (!this.audioSeen) this.adoptFrameLength(packet.payload);
    this.audioSeen = true;
    this.counts.audioPackets++;
    this.jitter.put({
      sequenceNumber: (packet.sequenceNumber - this.eventPackets) & 0xffff,
      timestamp: packet.timestamp,
      payload: packet.payload,
      arrivalMs: packet.arrivalMs,
    });
    return undefined;
  }

  /** The frame due at `nowMs`: frameMs of decoded, concealed or silent audio at the speaker's rate. */
  playout(nowMs: number): Int16Array {
    const { voice, plc, resampler } = this.decoding;
    const samples = (voice.sampleRateHz * this.frameMsNow) / 1000;
    const out = this.jitter.get(nowMs);
    let pcm: Int16Array;
    switch (out.kind) {
      case 'frame': {
        const decoded = this.decode(out.payload);
        pcm = decoded === undefined ? this.conceal(samples) : plc ? plc.good(fit(decoded, samples)) : fit(decoded, samples);
        break;
      }
      case 'conceal':
        pcm = this.conceal(samples);
        break;
      case 'silence':
        pcm = plc ? plc.good(new Int16Array(samples)) : new Int16Array(samples);
        break;
    }
    return resampler.process(pcm);
  }

  /** The payload's PCM, or undefined for one the decoder refuses (counted, and concealed instead). */
  private decode(payload: Uint8Array): Int16Array | undefined {
    try {
      return this.decoding.voice.decode(payload);
    } catch {
      this.counts.undecodable++;
      return undefined;
    }
  }

  private conceal(samples: number): Int16Array {
    const { voice, plc } = this.decoding;
    if (plc) return plc.conceal(samples);
    return voice.conceal ? voice.conceal(samples) : new Int16Array(samples);
  }

  /** A whole number of 10 ms in 10..60 ms is a usable frame length. */
  private adoptFrameLength(payload: Uint8Array): void {
    const ms = payloadDurationMs(this.decoding.codec.name, payload);
    if (ms === undefined || ms === this.frameMsNow || !Number.isInteger(ms / 10) || ms < 10 || ms > 60) return;
    this.frameMsNow = ms;
    this.jitter = this.newJitterBuffer();
  }

  private newJitterBuffer(): JitterBuffer {
    return new JitterBuffer({
      ...this.opts.jitter,
      frameMs: this.frameMsNow,
      clockRateHz: this.decoding.voice.clockRateHz,
      isQuiet: (payload) => isQuietPayload(this.decoding.codec.name, payload),
    });
  }

  private openDecoding(codec: AudioCodec): Decoding {
    const voice = openVoiceCodec(codec.name, this.deviceRateHz);
    return {
      codec,
      voice,
      plc: voice.conceal ? undefined : new PacketLossConcealer(),
      resampler: new Resampler(voice.sampleRateHz as AudioSampleRateHz, this.deviceRateHz),
    };
  }
}

/** A decoded packet of another length than the frame (a peer that changed its ptime): cut or padded to the frame. */
function fit(pcm: Int16Array, samples: number): Int16Array {
  if (pcm.length === samples) return pcm;
  const out = new Int16Array(samples);
  out.set(pcm.subarray(0, samples));
  return out;
}
