// The receiving half of one call's audio, without I/O: RTP packets go to the DTMF receiver
// (telephone-event) or the jitter buffer (audio); the playout clock asks for one frame per
// packet time, which is decoded, or concealed when it is missing (G.711 Appendix I).
//
// Two details of a real stream:
// - The jitter buffer needs one packet duration. It is the duration of the first audio packet
//   that arrives (a peer may send 30 ms although we asked for 20), else the negotiated ptime.
// - RFC 4733 §2.2.1: events share the audio's sequence numbers. The jitter buffer is given audio
//   numbered without them, so the audio after a key press looks like the end of a silence gap
//   (RFC 3551 §4.1), not like the loss of the event's packets.
import { DtmfReceiver } from './dtmf-receiver.js';
import { alawToLinear, decodeAlaw, decodeUlaw, ulawToLinear } from './g711.js';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats } from './jitter-buffer.js';
import { PacketLossConcealer } from './packet-loss-concealment.js';
import { AUDIO_SAMPLE_RATE_HZ, type AudioCodec } from './audio-pipeline-sender.js';
import type { RtpPacket } from './rtp-packet.js';
import type { DtmfDigit } from './telephone-event.js';

/** Jitter buffer settings a pipeline may tune; the frame length and clock rate follow the stream. */
export type AudioJitterOptions = Omit<JitterBufferOptions, 'frameMs' | 'clockRateHz' | 'isQuiet'>;

export interface AudioReceivePathOptions {
  readonly codec: AudioCodec;
  readonly telephoneEventPt?: number;
  /** The negotiated packet time: the frame length until the first audio packet tells. */
  readonly ptimeMs: number;
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
}

/** A G.711 frame this quiet (peak under −50 dBov) is dropped unheard when the buffer shrinks. */
const QUIET_PEAK = 100;

export class AudioReceivePath {
  private codec: AudioCodec;
  private telephoneEventPt: number | undefined;
  private frameMsNow: number;
  private jitter: JitterBuffer;
  private audioSeen = false;
  private readonly plc = new PacketLossConcealer();
  private readonly dtmf = new DtmfReceiver();
  /** Telephone-event packets of the current source, taken out of the audio's sequence numbers. */
  private eventPackets = 0;
  private ssrc: number | undefined;
  private counts = { audioPackets: 0, dtmfPackets: 0, dtmfDigits: 0, ignored: 0 };

  constructor(private readonly opts: AudioReceivePathOptions) {
    this.codec = opts.codec;
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

  setCodec(codec: AudioCodec, telephoneEventPt: number | undefined): void {
    this.codec = codec;
    this.telephoneEventPt = telephoneEventPt;
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
    if (packet.payloadType !== this.codec.payloadType) {
      this.counts.ignored++;
      return undefined;
    }
    if (!this.audioSeen) this.adoptFrameLength(packet.payload.length);
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

  /** The frame due at `nowMs`: frameMs of decoded, concealed or silent audio, PLC_DELAY_SAMPLES late. */
  playout(nowMs: number): Int16Array {
    const samples = (AUDIO_SAMPLE_RATE_HZ * this.frameMsNow) / 1000;
    const out = this.jitter.get(nowMs);
    switch (out.kind) {
      case 'frame':
        return this.plc.good(fit(this.decode(out.payload), samples));
      case 'conceal':
        return this.plc.conceal(samples);
      case 'silence':
        return this.plc.good(new Int16Array(samples));
    }
  }

  private decode(payload: Uint8Array): Int16Array {
    return this.codec.name === 'PCMA' ? decodeAlaw(payload) : decodeUlaw(payload);
  }

  /** G.711 carries one byte per sample: a whole number of 10 ms in 10..60 ms is a usable frame length. */
  private adoptFrameLength(bytes: number): void {
    const ms = (bytes * 1000) / AUDIO_SAMPLE_RATE_HZ;
    if (ms === this.frameMsNow || !Number.isInteger(ms / 10) || ms < 10 || ms > 60) return;
    this.frameMsNow = ms;
    this.jitter = this.newJitterBuffer();
  }

  private newJitterBuffer(): JitterBuffer {
    return new JitterBuffer({
      ...this.opts.jitter,
      frameMs: this.frameMsNow,
      clockRateHz: AUDIO_SAMPLE_RATE_HZ,
      isQuiet: (payload) => this.isQuiet(payload),
    });
  }

  private isQuiet(payload: Uint8Array): boolean {
    const toLinear = this.codec.name === 'PCMA' ? alawToLinear : ulawToLinear;
    for (const code of payload) if (Math.abs(toLinear(code)) >= QUIET_PEAK) return false;
    return true;
  }
}

/** A decoded packet of another length than the frame (a peer that changed its ptime): cut or padded to the frame. */
function fit(pcm: Int16Array, samples: number): Int16Array {
  if (pcm.length === samples) return pcm;
  const out = new Int16Array(samples);
  out.set(pcm.subarray(0, samples));
  return out;
}
