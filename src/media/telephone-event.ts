// RFC 4733 §2.3: the telephone-event payload, one event in 4 octets:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     event     |E|R| volume    |          duration             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// §3.2 assigns the DTMF digits the event codes 0-15. Decoding yields a value or a
// TelephoneEventError; encoding a field out of its wire range is a caller bug and throws one.
import { CodedError } from '../util/index.js';

export const TELEPHONE_EVENT_PAYLOAD_BYTES = 4;
/** §2.3.5: the duration field is 16 bits of RTP timestamp units. */
export const TELEPHONE_EVENT_MAX_DURATION = 0xffff;
/** §2.3.4: volume is the power level in −dBm0, 0..63. */
export const TELEPHONE_EVENT_MAX_VOLUME = 63;
/** §2.3.1: the event field is 8 bits. */
export const TELEPHONE_EVENT_MAX_CODE = 0xff;

export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** §3.2 Table 1: the digit at index n has event code n. */
export const DTMF_DIGITS: readonly DtmfDigit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

export type TelephoneEventErrorCode = 'too-short' | 'invalid-field' | 'unknown-digit';

export class TelephoneEventError extends CodedError<TelephoneEventErrorCode> {}

export interface TelephoneEvent {
  /** Event code, 0..255; 0-15 are the DTMF digits. */
  readonly event: number;
  /** The E bit: this packet reports the end of the event. */
  readonly end: boolean;
  /** Power level of the tone in −dBm0 (0 loudest), 0..63. */
  readonly volume: number;
  /** Time since the event (or segment) began, in RTP timestamp units, 0..0xFFFF. */
  readonly duration: number;
}

/** The event code of a digit; a lower-case a-d is accepted as A-D. */
export function dtmfEventCode(digit: string): number | TelephoneEventError {
  const index = DTMF_DIGITS.indexOf(digit.toUpperCase() as DtmfDigit);
  if (digit.length !== 1 || index < 0) return new TelephoneEventError('unknown-digit', `'${digit}' is not a DTMF digit (0-9, *, #, A-D)`);
  return index;
}

/** The digit of an event code, or undefined for codes that are not DTMF (flash, tones, …). */
export function dtmfDigitOf(event: number): DtmfDigit | undefined {
  return Number.isInteger(event) ? DTMF_DIGITS[event] : undefined;
}

/** The first problem with an event's fields, or undefined when each is within its wire range. */
export function validateTelephoneEvent(e: TelephoneEvent): TelephoneEventError | undefined {
  return (
    checkRange('event', e.event, TELEPHONE_EVENT_MAX_CODE) ??
    checkRange('volume', e.volume, TELEPHONE_EVENT_MAX_VOLUME) ??
    checkRange('duration', e.duration, TELEPHONE_EVENT_MAX_DURATION)
  );
}

/** Encodes one event; a field out of range throws TelephoneEventError('invalid-field'). */
export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  const invalid = validateTelephoneEvent(e);
  if (invalid) throw invalid;
  const out = new Uint8Array(TELEPHONE_EVENT_PAYLOAD_BYTES);
  const view = new DataView(out.buffer);
  view.setUint8(0, e.event);
  // §2.3.3: the R bit is reserved and MUST be sent as zero.
  view.setUint8(1, (e.end ? 0x80 : 0) | e.volume);
  view.setUint16(2, e.duration);
  return out;
}

/**
 * Decodes the event at the start of `payload` (RTP padding already removed). §2.3.3: the
 * receiver ignores the R bit. Octets after the first 4 are not part of this payload format and
 * are ignored.
 */
export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEvent | TelephoneEventError {
  if (payload.length < TELEPHONE_EVENT_PAYLOAD_BYTES) {
    return new TelephoneEventError('too-short', `telephone-event payload of ${payload.length} bytes, expected 4`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const b1 = view.getUint8(1);
  return { event: view.getUint8(0), end: (b1 & 0x80) !== 0, volume: b1 & 0x3f, duration: view.getUint16(2) };
}

function checkRange(name: string, value: number, max: number): TelephoneEventError | undefined {
  if (Number.isInteger(value) && value >= 0 && value <= max) return undefined;
  return new TelephoneEventError('invalid-field', `${name} ${value} is not an integer in 0..${max}`);
}
