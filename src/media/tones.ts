// Call-progress tones written the way ITU-T E.180 Supplement 2 tabulates them, as one readable
// string: segments separated by commas, each `frequencies/durationMs`. Frequencies are one
// value (`425`), a sum (`350+440`, every component at the tone's level), an amplitude-modulated
// carrier (`400*16`, E.180's "400 × 16 Hz") or `0` for silence. A one-segment tone may omit the
// duration and is then continuous; a cadence loops from its first segment.
//   "350+440"                              continuous (US dial tone)
//   "440+480/2000,0/4000"                  2 s on, 4 s off (US ringback)
//   "400+450/400,0/200,400+450/400,0/2000" double ring (UK ringback)
// A ringer's cadence is on/off durations only: "2000,4000", "400,200,400,2000".
import { CodedError } from '../util/index.js';

export type ToneErrorCode =
  | 'empty'
  | 'badSyntax'
  | 'badFrequency'
  | 'badDuration'
  | 'missingDuration'
  | 'tooLong'
  | 'unknownCountry';

export class ToneError extends CodedError<ToneErrorCode> {}

export interface ToneSegment {
  /** Components summed, each at the tone's level; empty during an off segment. */
  readonly frequenciesHz: readonly number[];
  /** Amplitude modulation of the sum (`400*16`); 0 for none. */
  readonly modulationHz: number;
  /** Duration; `Infinity` for the single segment of a continuous tone. */
  readonly durationMs: number;
}

export interface ToneSpec {
  /** The notation the spec was parsed from, for logs and the settings page. */
  readonly notation: string;
  readonly segments: readonly ToneSegment[];
}

export interface RingCadenceSegment {
  readonly on: boolean;
  readonly durationMs: number;
}

export interface RingCadence {
  readonly notation: string;
  /** Alternating on, off, on, off …, starting with on. */
  readonly segments: readonly RingCadenceSegment[];
  readonly periodMs: number;
}

/** Limits of the parser: far beyond any E.180 entry, small enough that a settings file cannot make it allocate much. */
export const TONE_MAX_NOTATION_LENGTH = 512;
export const TONE_MAX_SEGMENTS = 32;
export const TONE_MAX_COMPONENTS = 4;
export const TONE_MAX_FREQUENCY_HZ = 20_000;
export const TONE_MAX_DURATION_MS = 600_000;

const NUMBER = /^\d+(\.\d+)?$/;
const INTEGER = /^\d+$/;

/** Parses a tone in E.180-style notation; throws ToneError naming the bad segment. */
export function parseTone(notation: string): ToneSpec {
  const text = notation.trim();
  if (text === '') throw new ToneError('empty', 'tone notation is empty');
  if (text.length > TONE_MAX_NOTATION_LENGTH) {
    throw new ToneError('tooLong', `tone notation is ${text.length} characters, at most ${TONE_MAX_NOTATION_LENGTH}`);
  }
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length > TONE_MAX_SEGMENTS) throw new ToneError('tooLong', `tone has ${parts.length} segments, at most ${TONE_MAX_SEGMENTS}`);
  const segments = parts.map((part, i) => parseSegment(part, i, parts.length));
  return { notation: text, segments };
}

function parseSegment(part: string, index: number, count: number): ToneSegment {
  const where = `segment ${index + 1} "${part}"`;
  if (part === '') throw new ToneError('badSyntax', `${where} is empty`);
  const pieces = part.split('/');
  if (pieces.length > 2) throw new ToneError('badSyntax', `${where} has more than one "/"`);
  const [freqText = '', durationText] = pieces;
  let durationMs = Number.POSITIVE_INFINITY;
  if (durationText === undefined) {
    if (count > 1) throw new ToneError('missingDuration', `${where} needs a duration: only a one-segment tone is continuous`);
  } else {
    durationMs = parseDurationMs(durationText.trim(), where);
  }
  const spec = freqText.trim();
  if (spec === '') throw new ToneError('badFrequency', `${where} has no frequency`);
  if (spec.includes('*')) {
    const mod = spec.split('*');
    if (mod.length !== 2 || spec.includes('+')) {
      throw new ToneError('badSyntax', `${where}: modulation is exactly carrier*modulator`);
    }
    const carrier = parseFrequencyHz(mod[0] ?? '', where);
    const modulationHz = parseFrequencyHz(mod[1] ?? '', where);
    if (carrier === 0 || modulationHz === 0) throw new ToneError('badFrequency', `${where}: a modulated tone needs non-zero frequencies`);
    return { frequenciesHz: [carrier], modulationHz, durationMs };
  }
  const components = spec.split('+').map((f) => parseFrequencyHz(f, where));
  if (components.length > TONE_MAX_COMPONENTS) {
    throw new ToneError('tooLong', `${where} sums ${components.length} frequencies, at most ${TONE_MAX_COMPONENTS}`);
  }
  if (components.length === 1 && components[0] === 0) return { frequenciesHz: [], modulationHz: 0, durationMs };
  if (components.includes(0)) throw new ToneError('badFrequency', `${where}: 0 (silence) cannot be summed with a tone`);
  return { frequenciesHz: components, modulationHz: 0, durationMs };
}

function parseFrequencyHz(text: string, where: string): number {
  const t = text.trim();
  if (!NUMBER.test(t)) throw new ToneError('badFrequency', `${where}: "${t}" is not a frequency in Hz`);
  const hz = Number(t);
  if (hz > TONE_MAX_FREQUENCY_HZ) throw new ToneError('badFrequency', `${where}: ${hz} Hz is above ${TONE_MAX_FREQUENCY_HZ} Hz`);
  return hz;
}

function parseDurationMs(text: string, where: string): number {
  if (!INTEGER.test(text)) throw new ToneError('badDuration', `${where}: "${text}" is not a duration in whole milliseconds`);
  const ms = Number(text);
  if (ms < 1 || ms > TONE_MAX_DURATION_MS) {
    throw new ToneError('badDuration', `${where}: ${ms} ms is not in 1..${TONE_MAX_DURATION_MS} ms`);
  }
  return ms;
}

/** Parses a ringer cadence: on/off durations in ms, an even count of them, starting with on. */
export function parseRingCadence(notation: string): RingCadence {
  const text = notation.trim();
  if (text === '') throw new ToneError('empty', 'ring cadence is empty');
  if (text.length > TONE_MAX_NOTATION_LENGTH) throw new ToneError('tooLong', `ring cadence is ${text.length} characters`);
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length % 2 !== 0) throw new ToneError('badSyntax', `ring cadence "${text}" needs on,off pairs, got ${parts.length} values`);
  if (parts.length > TONE_MAX_SEGMENTS) throw new ToneError('tooLong', `ring cadence has ${parts.length} values, at most ${TONE_MAX_SEGMENTS}`);
  const segments = parts.map((p, i) => ({ on: i % 2 === 0, durationMs: parseDurationMs(p, `ring cadence value ${i + 1}`) }));
  return { notation: text, segments, periodMs: segments.reduce((sum, s) => sum + s.durationMs, 0) };
}

/** Whether the bell rings `elapsedMs` after the cadence started (it loops). */
export function isRinging(cadence: RingCadence, elapsedMs: number): boolean {
  let t = ((elapsedMs % cadence.periodMs) + cadence.periodMs) % cadence.periodMs;
  for (const seg of cadence.segments) {
    if (t < seg.durationMs) return seg.on;
    t -= seg.durationMs;
  }
  return false;
}
