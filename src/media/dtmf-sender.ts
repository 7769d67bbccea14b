// RFC 4733 §2.5.1: sending one DTMF key press as telephone-events, paced at the audio's ptime.
// Pure: the caller ticks it once per packet interval and sends the packets it returns.
//
// How the event sits in the audio stream (§2.2.1; events and audio are one RTP stream: one
// SSRC, one sequence-number space):
// - The event replaces audio from a packet boundary on. On the pacer tick where the next audio
//   frame would be sent, the caller ticks this machine instead. Its first packet carries the
//   stream's current timestamp — the start of the first interval the event covers — and that
//   is the event's timestamp: every packet of the event (of the segment, see below) repeats it,
//   while the duration grows by one ptime per tick.
// - Until the machine reports `done`, the caller sends no audio: microphone frames are read and
//   dropped, so the capture stays in step. This includes the end packet's two repetitions.
// - With RtpSession, each send action is `session.send(a.payload, a.samples, a.marker, eventPt)`.
//   `samples` is 0 for every packet but the last of a segment, so they all get the same
//   timestamp; the last one advances the stream by the time the event occupied, so the first
//   audio packet after it is stamped where it would have been had audio never stopped (the
//   receiver sees a timestamp gap, not a clock jump). `timestampOffset` gives the same
//   information for a caller that stamps packets itself: timestamp = event start + offset.
import {
  TELEPHONE_EVENT_MAX_DURATION,
  TELEPHONE_EVENT_MAX_VOLUME,
  TelephoneEventError,
  dtmfEventCode,
  encodeTelephoneEvent,
  type DtmfDigit,
} from './telephone-event.js';

export const DTMF_DEFAULT_MIN_DURATION_MS = 100;
/** §2.5.1.4: the final packet of an event or segment is sent three times in all. */
export const DTMF_END_PACKET_SENDS = 3;
/** 10 (−10 dBm0): the level of a DTMF tone pair's louder component on a typical phone. */
export const DTMF_DEFAULT_VOLUME = 10;

export interface DtmfSenderOptions {
  readonly digit: DtmfDigit;
  /** Clock rate of the telephone-event format, which matches the audio's; default 8000. */
  readonly clockRateHz?: number;
  /** Update interval, the audio's packet time; default 20. */
  readonly ptimeMs?: number;
  /** Shortest event sent, however briefly the key was pressed; default 100 ms. */
  readonly minDurationMs?: number;
  /** −dBm0, 0..63; default 10. */
  readonly volume?: number;
  /** Sends of each final packet (end of event or of segment); default 3, at least 1. */
  readonly endPacketSends?: number;
}

/**
 * - `idle`: nothing sent yet;
 * - `sending`: updates of a growing duration, while the key is held or the minimum not reached;
 * - `segment-end`: repeating the last packet of a segment of a long event (§2.5.1.3);
 * - `ending`: repeating the end packet (§2.5.1.4);
 * - `done`: all sent; the caller resumes audio.
 */
export type DtmfSenderState = 'idle' | 'sending' | 'segment-end' | 'ending' | 'done';

export type DtmfSendAction =
  | {
      readonly kind: 'send';
      /** The 4-octet telephone-event payload. */
      readonly payload: Uint8Array;
      /** The RTP marker bit: set on the event's first packet only (§2.2.2). */
      readonly marker: boolean;
      /** This packet's timestamp minus the event's start timestamp: 0, or a later segment's start. */
      readonly timestampOffset: number;
      /** How far the stream's timestamp moves after this packet (RtpSession.send's `samples`). */
      readonly samples: number;
    }
  | {
      readonly kind: 'done';
      /** Timestamp units the event occupied in the stream, end-packet repetitions included. */
      readonly elapsedSamples: number;
    };

export class DtmfSender {
  private readonly event: number;
  private readonly volume: number;
  private readonly samplesPerTick: number;
  private readonly minDurationSamples: number;
  private readonly endPacketSends: number;
  private current: DtmfSenderState = 'idle';
  private released = false;
  /** Timestamp units from the event's start to the end of the latest tick. */
  private elapsed = 0;
  /** Offset of the current segment's timestamp from the event's. */
  private segmentStart = 0;
  private finalPayload: Uint8Array | undefined;
  private sendsLeft = 0;

  /** Throws TelephoneEventError for a bad digit or volume, RangeError for bad timing options. */
  constructor(opts: DtmfSenderOptions) {
    const event = dtmfEventCode(opts.digit);
    if (event instanceof TelephoneEventError) throw event;
    this.event = event;
    this.volume = opts.volume ?? DTMF_DEFAULT_VOLUME;
    if (!Number.isInteger(this.volume) || this.volume < 0 || this.volume > TELEPHONE_EVENT_MAX_VOLUME) {
      throw new TelephoneEventError('invalid-field', `volume ${this.volume} is not an integer in 0..63`);
    }
    const clockRateHz = opts.clockRateHz ?? 8000;
    const ptimeMs = opts.ptimeMs ?? 20;
    this.samplesPerTick = (clockRateHz * ptimeMs) / 1000;
    if (!(clockRateHz > 0 && ptimeMs > 0) || !Number.isInteger(this.samplesPerTick)) {
      throw new RangeError(`ptime ${ptimeMs} ms at ${clockRateHz} Hz is not a whole, positive number of samples`);
    }
    const minDurationMs = opts.minDurationMs ?? DTMF_DEFAULT_MIN_DURATION_MS;
    if (!(minDurationMs >= 0)) throw new RangeError(`minDurationMs must be >= 0, got ${minDurationMs}`);
    this.minDurationSamples = Math.ceil((minDurationMs * clockRateHz) / 1000);
    this.endPacketSends = opts.endPacketSends ?? DTMF_END_PACKET_SENDS;
    if (!Number.isInteger(this.endPacketSends) || this.endPacketSends < 1) {
      throw new RangeError(`endPacketSends must be a positive integer, got ${this.endPacketSends}`);
    }
  }

  get state(): DtmfSenderState {
    return this.current;
  }

  /** The key went up: the event ends on the first tick at or after the minimum duration. */
  release(): void {
    this.released = true;
  }

  /**
   * One packet interval passed (`intervals` > 1 after the pacer skipped ticks in a stall):
   * returns the packet to send now, followed by `done` after the very last one. Ticks after
   * `done` return nothing.
   */
  tick(intervals = 1): DtmfSendAction[] {
    if (!Number.isInteger(intervals) || intervals < 1) throw new RangeError(`intervals must be a positive integer, got ${intervals}`);
    if (this.current === 'done') return [];
    this.elapsed += intervals * this.samplesPerTick;
    switch (this.current) {
      case 'idle':
        return this.report(true);
      case 'sending':
        return this.report(false);
      case 'segment-end':
      case 'ending':
        return this.repeatFinal();
    }
  }

  private report(marker: boolean): DtmfSendAction[] {
    const duration = this.elapsed - this.segmentStart;
    // §2.5.1.3: a packet reporting the maximum duration, without the E bit, closes the segment;
    // the next segment's timestamp is where that maximum was reached. Later segments are a
    // continuation, not a new event, so their first packet has no marker bit.
    if (duration > TELEPHONE_EVENT_MAX_DURATION) {
      return this.sendFinal('segment-end', TELEPHONE_EVENT_MAX_DURATION, false, marker);
    }
    if (this.released && this.elapsed >= this.minDurationSamples) {
      return this.sendFinal('ending', duration, true, marker);
    }
    this.current = 'sending';
    return [this.send(this.payload(duration, false), marker, 0)];
  }

  private sendFinal(next: 'segment-end' | 'ending', duration: number, end: boolean, marker: boolean): DtmfSendAction[] {
    this.finalPayload = this.payload(duration, end);
    this.sendsLeft = this.endPacketSends;
    this.current = next;
    return this.repeatFinal(marker);
  }

  // §2.5.1.4: the final packet of each event and each segment is sent three times, at the update
  // interval; the repetitions are identical (E bit included), so a receiver can drop them.
  private repeatFinal(marker = false): DtmfSendAction[] {
    const payload = this.finalPayload;
    if (!payload) throw new Error(`DtmfSender in state ${this.current} has no final packet`);
    this.sendsLeft--;
    if (this.sendsLeft > 0) return [this.send(payload, marker, 0)];
    const offset = this.segmentStart;
    if (this.current === 'segment-end') {
      this.segmentStart += TELEPHONE_EVENT_MAX_DURATION;
      this.current = 'sending';
      return [this.send(payload, marker, TELEPHONE_EVENT_MAX_DURATION, offset)];
    }
    this.current = 'done';
    return [this.send(payload, marker, this.elapsed - offset, offset), { kind: 'done', elapsedSamples: this.elapsed }];
  }

  private send(payload: Uint8Array, marker: boolean, samples: number, timestampOffset = this.segmentStart): DtmfSendAction {
    return { kind: 'send', payload, marker, timestampOffset, samples };
  }

  private payload(duration: number, end: boolean): Uint8Array {
    return encodeTelephoneEvent({ event: this.event, end, volume: this.volume, duration });
  }
}
