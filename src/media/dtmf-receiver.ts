// RFC 4733 §2.5.2: receiving telephone-events and reporting each key press once. Pure: the
// caller passes the RTP packets of the telephone-event payload type, in arrival order.
//
// A press is reported on the first of its packets to arrive, not on its end: a desk phone
// shows (or forwards) the digit while the key is still down, and does not wait out a lost
// end packet. An event is identified by its RTP timestamp (§2.2.1), so
// - any packet with a timestamp not seen before starts a press, whether it is the marker
//   packet, an update, or an end packet (the earlier ones were lost or are still in flight);
// - every later packet of that timestamp — updates, duplicates, the three end packets, the
//   marker packet overtaken by an update — is part of a press already reported;
// - the same digit pressed again has a new timestamp, so it is a new press;
// - a later segment of a long event (§2.5.1.3: no marker bit, the same event, starting where
//   the unfinished previous segment's duration ended) continues that press.
import type { RtpPacket } from './rtp-packet.js';
import {
  TELEPHONE_EVENT_MAX_DURATION,
  TelephoneEventError,
  decodeTelephoneEvent,
  dtmfDigitOf,
  type DtmfDigit,
} from './telephone-event.js';

/** Events remembered per source, enough to recognise the late packets of recent presses. */
export const DTMF_RECEIVER_HISTORY = 16;

/** Shortest segment a sender splitting a long event is assumed to send: half the duration field's range. */
const MIN_SEGMENT_DURATION = 0x8000;

export type DtmfReceiverPacket = Pick<RtpPacket, 'ssrc' | 'timestamp' | 'marker' | 'payload'>;

/**
 * - `same-event`: a packet of a press already reported (update, duplicate, end repetition, reordered);
 * - `next-segment`: the first packet of a long event's next segment (§2.5.1.3);
 * - `not-dtmf`: an event other than the digits 0-9, *, #, A-D (flash, tones);
 * - `malformed`: not a telephone-event payload.
 */
export type DtmfIgnoreReason = 'same-event' | 'next-segment' | 'not-dtmf' | 'malformed';

export type DtmfReceiveResult =
  | {
      readonly kind: 'digit';
      readonly digit: DtmfDigit;
      readonly ssrc: number;
      /** The event's RTP timestamp: when the key went down, on the sender's clock. */
      readonly timestamp: number;
    }
  | { readonly kind: 'ignored'; readonly reason: DtmfIgnoreReason; readonly error?: TelephoneEventError };

interface SeenEvent {
  readonly timestamp: number;
  readonly event: number;
  ended: boolean;
  maxDuration: number;
}

export class DtmfReceiver {
  private ssrc: number | undefined;
  /** Recent events of the current source, oldest first; the last is the latest to start. */
  private readonly seen: SeenEvent[] = [];

  constructor(private readonly historySize = DTMF_RECEIVER_HISTORY) {
    if (!Number.isInteger(historySize) || historySize < 1) throw new RangeError(`historySize must be a positive integer, got ${historySize}`);
  }

  receive(packet: DtmfReceiverPacket): DtmfReceiveResult {
    const decoded = decodeTelephoneEvent(packet.payload);
    if (decoded instanceof TelephoneEventError) return { kind: 'ignored', reason: 'malformed', error: decoded };
    const digit = dtmfDigitOf(decoded.event);
    if (digit === undefined) return { kind: 'ignored', reason: 'not-dtmf' };
    // A new SSRC is a new sender (RFC 3550 §8.2): its timestamps share nothing with the old one's.
    if (packet.ssrc !== this.ssrc) {
      this.ssrc = packet.ssrc;
      this.seen.length = 0;
    }

    const known = this.seen.find((e) => e.timestamp === packet.timestamp);
    if (known) {
      known.ended ||= decoded.end;
      known.maxDuration = Math.max(known.maxDuration, decoded.duration);
      return { kind: 'ignored', reason: 'same-event' };
    }

    const latest = this.seen.at(-1);
    const entry: SeenEvent = { timestamp: packet.timestamp, event: decoded.event, ended: decoded.end, maxDuration: decoded.duration };
    this.remember(entry);
    if (latest && !packet.marker && continues(latest, entry)) return { kind: 'ignored', reason: 'next-segment' };
    return { kind: 'digit', digit, ssrc: packet.ssrc, timestamp: packet.timestamp };
  }

  private remember(entry: SeenEvent): void {
    this.seen.push(entry);
    if (this.seen.length > this.historySize) this.seen.shift();
  }
}

// §2.5.1.3: the next segment starts where the previous one's maximum duration was reached. Its
// last packet may be lost, so 0xFFFF counts as well as the largest duration seen (a sender that
// splits at a whole number of packet intervals). A short gap is not a segment: it is a new press
// of the same key after the previous one's end packets were all lost.
function continues(previous: SeenEvent, next: SeenEvent): boolean {
  if (previous.ended || previous.event !== next.event) return false;
  const gap = (next.timestamp - previous.timestamp) >>> 0;
  return gap === TELEPHONE_EVENT_MAX_DURATION || (gap === previous.maxDuration && gap >= MIN_SEGMENT_DURATION);
}
