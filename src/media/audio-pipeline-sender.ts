// The sending half of one call's audio, without I/O: 10 ms microphone frames wait in a short
// queue, and on every pacer tick one ptime of them becomes a packet of the negotiated codec
// (resampled first when the codec's PCM rate is not the device's) — or, while a key press is
// being sent, an RFC 4733 telephone-event packet (dtmf-sender.ts: the event replaces the audio
// from a packet boundary on, and the microphone frames of that time are dropped so the capture
// stays in step). Timestamps count in the codec's RTP clock (8000 Hz for G.711 and G.722,
// 48000 Hz for Opus), and so do the events' (RFC 4733 §2.1).
//
// The queue is elastic. A tick that finds less than one ptime of audio sends silence and keeps
// what is there, which gives the capture one frame of slack when its timer and the pacer's fire
// at the same instant in either order; a queue longer than `maxQueuedMs` (a bursty or slightly
// fast sound card clock) loses its oldest samples, so the mouth-to-ear delay stays bounded.
import { CodedError } from '../util/index.js';
import type { AudioCodec as VoiceCodec } from './audio-codec.js';
import { openVoiceCodec, type AudioCodec } from './audio-pipeline-codec.js';
import { Resampler } from './audio-pipeline-resampler.js';
import type { AudioSampleRateHz } from './audio-types.js';
import { DtmfSender } from './dtmf-sender.js';
import { TelephoneEventError, dtmfDigitOf, dtmfEventCode, type DtmfDigit } from './telephone-event.js';

export { type AudioCodec, type AudioCodecName } from './audio-pipeline-codec.js';

export type AudioPipelineErrorCode =
  /** sendDtmf() but the peer did not accept telephone-event (RFC 4733 §7.1.1). */
  | 'no-telephone-event'
  /** A character that is not a DTMF digit (0-9, *, #, A-D). */
  | 'bad-digit'
  /** start() twice, or anything after close(). */
  | 'bad-state';

export class AudioPipelineError extends CodedError<AudioPipelineErrorCode> {}

/** The device rate when none is given: G.711's. */
export const AUDIO_SAMPLE_RATE_HZ = 8000;
const OPUS_FRAME_MS: readonly number[] = [2.5, 5, 10, 20, 40, 60];
/** RFC 4733 leaves the pause between two events to the sender; 60 ms of audio keeps them apart for any receiver. */
export const DTMF_INTER_DIGIT_GAP_MS = 60;

export type AudioSendAction =
  | {
      readonly kind: 'send';
      readonly payload: Uint8Array;
      /** How far the stream's timestamp moves after this packet (RtpSession.send's `samples`). */
      readonly samples: number;
      readonly marker: boolean;
      readonly payloadType: number;
      readonly dtmf: boolean;
    }
  /** Time passed without a packet (the event loop stalled): only the timestamp moves. */
  | { readonly kind: 'skip'; readonly samples: number };

export interface AudioSendPathOptions {
  readonly codec: AudioCodec;
  readonly telephoneEventPt?: number;
  readonly ptimeMs: number;
  /** The microphone's rate; default 8000. */
  readonly sampleRateHz?: AudioSampleRateHz;
  /** Most microphone audio held back; default three packets. */
  readonly maxQueuedMs?: number;
  /** Shortest key press sent; default DtmfSender's 100 ms. */
  readonly dtmfDurationMs?: number;
  readonly dtmfGapMs?: number;
}

export interface AudioSendStats {
  readonly audioPackets: number;
  readonly dtmfPackets: number;
  readonly dtmfDigits: number;
  /** Packets sent as silence because less than one ptime of microphone audio had arrived. */
  readonly captureUnderruns: number;
  /** Microphone samples dropped: queue overflow, stalls, and the time key presses replaced. */
  readonly droppedSamples: number;
}

/** A FIFO of PCM samples kept as the frames that arrived. */
class SampleQueue {
  private readonly chunks: Int16Array[] = [];
  private head = 0;
  length = 0;

  push(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.chunks.push(samples);
    this.length += samples.length;
  }

  /** Removes the oldest `n` samples into `out` (or discards them without one); returns how many. */
  take(n: number, out?: Int16Array): number {
    let done = 0;
    while (done < n && this.chunks.length > 0) {
      const chunk = this.chunks[0] as Int16Array;
      const count = Math.min(n - done, chunk.length - this.head);
      out?.set(chunk.subarray(this.head, this.head + count), done);
      done += count;
      this.head += count;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.length -= done;
    return done;
  }
}

/** One codec instance with its resampler and RTP clock; replaced whole when the codec changes. */
interface Encoding {
  readonly codec: AudioCodec;
  readonly voice: VoiceCodec;
  readonly resampler: Resampler;
  /** RTP timestamp units per packet. */
  readonly timestampPerPacket: number;
}

export class AudioSendPath {
  private encoding: Encoding;
  private telephoneEventPt: number | undefined;
  private readonly deviceRateHz: AudioSampleRateHz;
  /** Microphone samples per packet. */
  private readonly samplesPerPacket: number;
  /** The microphone samples of the packet being built. */
  private readonly packetPcm: Int16Array;
  private readonly maxQueued: number;
  private readonly queue = new SampleQueue();
  private readonly digits: DtmfDigit[] = [];
  private dtmf: DtmfSender | undefined;
  private gapTicksLeft = 0;
  private readonly gapTicks: number;
  private first = true;
  private counts = { audioPackets: 0, dtmfPackets: 0, dtmfDigits: 0, captureUnderruns: 0, droppedSamples: 0 };

  constructor(private readonly opts: AudioSendPathOptions) {
    this.deviceRateHz = opts.sampleRateHz ?? AUDIO_SAMPLE_RATE_HZ;
    this.telephoneEventPt = opts.telephoneEventPt;
    this.samplesPerPacket = (this.deviceRateHz * opts.ptimeMs) / 1000;
    if (!Number.isInteger(this.samplesPerPacket) || this.samplesPerPacket <= 0) {
      throw new RangeError(`ptime ${opts.ptimeMs} ms is not a whole, positive number of samples at ${this.deviceRateHz} Hz`);
    }
    this.packetPcm = new Int16Array(this.samplesPerPacket);
    this.encoding = this.openEncoding(opts.codec);
    this.maxQueued = Math.max(this.samplesPerPacket, Math.round(((opts.maxQueuedMs ?? 3 * opts.ptimeMs) * this.deviceRateHz) / 1000));
    this.gapTicks = Math.ceil((opts.dtmfGapMs ?? DTMF_INTER_DIGIT_GAP_MS) / opts.ptimeMs);
  }

  /** The RTP clock rate of the codec in use. */
  get clockRateHz(): number {
    return this.encoding.voice.clockRateHz;
  }

  get stats(): AudioSendStats {
    return { ...this.counts };
  }

  /** Key presses queued or being sent. */
  get pendingDigits(): number {
    return this.digits.length + (this.dtmf ? 1 : 0);
  }

  /** A renegotiation changed the codec or the telephone-event payload type; throws RangeError (keeping the old codec) for one it cannot send at this ptime. */
  setCodec(codec: AudioCodec, telephoneEventPt: number | undefined): void {
    const old = this.encoding;
    const next = codec.name === old.codec.name ? { ...old, codec } : this.openEncoding(codec);
    this.telephoneEventPt = telephoneEventPt;
    this.encoding = next;
    if (next.voice === old.voice) return;
    old.voice.close();
    // A key press half sent counts in the old clock: it ends here, unsent further.
    if (this.encoding.voice.clockRateHz !== old.voice.clockRateHz) this.dtmf = undefined;
  }

  /** Frees the codec (Opus holds WASM memory). */
  close(): void {
    this.encoding.voice.close();
  }

  /** One microphone frame (any length; the capture delivers 10 ms). */
  push(samples: Int16Array): void {
    this.queue.push(samples);
    const excess = this.queue.length - this.maxQueued;
    if (excess > 0) this.counts.droppedSamples += this.queue.take(excess);
  }

  /** Queues key presses, sent one after another; throws AudioPipelineError before queuing any. */
  queueDtmf(digits: string): void {
    if (this.telephoneEventPt === undefined) throw new AudioPipelineError('no-telephone-event', 'the peer did not accept telephone-event');
    const checked: DtmfDigit[] = [];
    for (const c of digits) {
      const code = dtmfEventCode(c);
      const digit = code instanceof TelephoneEventError ? undefined : dtmfDigitOf(code);
      if (digit === undefined) throw new AudioPipelineError('bad-digit', `"${c}" is not a DTMF digit (0-9, *, #, A-D)`);
      checked.push(digit);
    }
    this.digits.push(...checked);
  }

  /** One pacer tick; `skipped` ticks before it were lost to a stall. */
  tick(skipped = 0): AudioSendAction[] {
    const actions: AudioSendAction[] = [];
    const dropped = skipped * this.samplesPerPacket;
    if (dropped > 0) this.counts.droppedSamples += this.queue.take(dropped);
    const skippedTimestamp = skipped * this.encoding.timestampPerPacket;
    if (!this.dtmf && this.gapTicksLeft === 0) this.startNextDigit();
    if (this.dtmf) {
      this.counts.droppedSamples += this.queue.take(this.samplesPerPacket);
      this.sendDtmfTick(1 + skipped, actions);
      return actions;
    }
    if (skippedTimestamp > 0) actions.push({ kind: 'skip', samples: skippedTimestamp });
    if (this.gapTicksLeft > 0) this.gapTicksLeft--;
    actions.push(this.audioPacket());
    return actions;
  }

  private startNextDigit(): void {
    const digit = this.digits.shift();
    if (digit === undefined || this.telephoneEventPt === undefined) return;
    this.dtmf = new DtmfSender({
      digit,
      clockRateHz: this.encoding.voice.clockRateHz,
      ptimeMs: this.opts.ptimeMs,
      ...(this.opts.dtmfDurationMs === undefined ? {} : { minDurationMs: this.opts.dtmfDurationMs }),
    });
    this.dtmf.release();
  }

  private sendDtmfTick(intervals: number, actions: AudioSendAction[]): void {
    const sender = this.dtmf as DtmfSender;
    const payloadType = this.telephoneEventPt as number;
    for (const a of sender.tick(intervals)) {
      if (a.kind === 'send') {
        this.counts.dtmfPackets++;
        actions.push({ kind: 'send', payload: a.payload, samples: a.samples, marker: a.marker, payloadType, dtmf: true });
      } else {
        this.dtmf = undefined;
        this.counts.dtmfDigits++;
        this.gapTicksLeft = this.gapTicks;
      }
    }
  }

  private audioPacket(): AudioSendAction {
    // One buffer for every packet: the resampler and the encoders read it and return their own.
    const pcm = this.packetPcm;
    if (this.queue.length >= this.samplesPerPacket) this.queue.take(this.samplesPerPacket, pcm);
    else {
      pcm.fill(0);
      this.counts.captureUnderruns++;
    }
    this.counts.audioPackets++;
    // RFC 3551 §4.1: the marker bit flags the first packet of a talkspurt; the stream starts with one.
    const marker = this.first;
    this.first = false;
    const { codec, voice, resampler, timestampPerPacket } = this.encoding;
    const payload = voice.encode(resampler.process(pcm));
    return { kind: 'send', payload, samples: timestampPerPacket, marker, payloadType: codec.payloadType, dtmf: false };
  }

  private openEncoding(codec: AudioCodec): Encoding {
    // RFC 6716 §2.1.4: one Opus frame lasts 2.5 to 60 ms, and we send one frame per packet.
    if (codec.name === 'opus' && !OPUS_FRAME_MS.includes(this.opts.ptimeMs)) {
      throw new RangeError(`ptime ${this.opts.ptimeMs} ms is not an Opus frame duration (${OPUS_FRAME_MS.join(', ')} ms)`);
    }
    const voice = openVoiceCodec(codec.name, this.deviceRateHz);
    const timestampPerPacket = (voice.clockRateHz * this.opts.ptimeMs) / 1000;
    if (!Number.isInteger(timestampPerPacket)) {
      voice.close();
      throw new RangeError(`ptime ${this.opts.ptimeMs} ms is not a whole number of ${codec.name} timestamp units`);
    }
    return { codec, voice, resampler: new Resampler(this.deviceRateHz, voice.sampleRateHz as AudioSampleRateHz), timestampPerPacket };
  }
}
