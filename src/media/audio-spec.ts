// The audio device spec strings of the board definition, parsed at the edge:
//   alsa:<pcm name>   an ALSA PCM, e.g. alsa:plughw:CARD=Device or alsa:default
//   file:<path.wav>   a 16-bit mono PCM WAV file (read for capture, written for playback)
//   tone:<freq>       a sine of <freq> Hz (capture only)
//   null              silence for capture, a sink for playback
import { CodedError } from '../util/index.js';

export type AudioSpecErrorCode =
  | 'unknown-backend'
  | 'empty-pcm'
  | 'bad-pcm'
  | 'empty-path'
  | 'bad-path'
  | 'bad-frequency'
  | 'not-for-playback';

export class AudioSpecError extends CodedError<AudioSpecErrorCode> {}

export type AudioSpec =
  | { readonly kind: 'alsa'; readonly pcm: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'tone'; readonly frequencyHz: number }
  | { readonly kind: 'null' };

export type AudioDirection = 'capture' | 'playback';

const MAX_SPEC_CHARS = 1024;
// ALSA PCM names are config identifiers with arguments (plughw:CARD=Device,DEV=0,
// "dmix:CARD=1"); anything with blanks or control characters is a typo in the board file.
const ALSA_PCM_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:,=+@/-]*$/;
const FREQUENCY_RE = /^\d{1,5}(\.\d{1,3})?$/;

/** Parses a spec string; throws AudioSpecError naming the problem. */
export function parseAudioSpec(spec: string, direction: AudioDirection): AudioSpec {
  if (spec.length > MAX_SPEC_CHARS) {
    throw new AudioSpecError('unknown-backend', `audio spec is longer than ${MAX_SPEC_CHARS} characters`);
  }
  if (spec === 'null') return { kind: 'null' };
  const colon = spec.indexOf(':');
  const backend = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? undefined : spec.slice(colon + 1);
  switch (backend) {
    case 'alsa':
      return { kind: 'alsa', pcm: parsePcm(spec, arg) };
    case 'file':
      return { kind: 'file', path: parsePath(spec, arg) };
    case 'tone':
      if (direction === 'playback') throw new AudioSpecError('not-for-playback', `"${spec}": a tone is a capture source, not a playback device`);
      return { kind: 'tone', frequencyHz: parseFrequency(spec, arg) };
    default:
      throw new AudioSpecError(
        'unknown-backend',
        `unknown audio backend in "${printable(spec)}": expected alsa:<pcm>, file:<path.wav>, tone:<Hz> or null`,
      );
  }
}

function parsePcm(spec: string, arg: string | undefined): string {
  if (!arg) throw new AudioSpecError('empty-pcm', `"${spec}": the ALSA PCM name is empty (e.g. alsa:default, alsa:plughw:CARD=Device)`);
  if (arg.length > 256 || !ALSA_PCM_RE.test(arg)) {
    throw new AudioSpecError('bad-pcm', `"${printable(spec)}": "${printable(arg)}" is not an ALSA PCM name`);
  }
  return arg;
}

function parsePath(spec: string, arg: string | undefined): string {
  if (!arg) throw new AudioSpecError('empty-path', `"${spec}": the file path is empty`);
  if (/[\u0000-\u001f]/.test(arg)) throw new AudioSpecError('bad-path', `"${printable(spec)}": the path holds control characters`);
  if (!/\.wav$/i.test(arg)) throw new AudioSpecError('bad-path', `"${spec}": the file must be a .wav file`);
  return arg;
}

function parseFrequency(spec: string, arg: string | undefined): number {
  if (arg === undefined || !FREQUENCY_RE.test(arg)) {
    throw new AudioSpecError('bad-frequency', `"${printable(spec)}": the tone frequency must be a number of Hz, e.g. tone:1000`);
  }
  const frequencyHz = Number(arg);
  // The upper bound is Nyquist, which depends on the sample rate: checked when the device opens.
  if (!(frequencyHz > 0)) throw new AudioSpecError('bad-frequency', `"${spec}": the tone frequency must be above 0 Hz`);
  return frequencyHz;
}

function printable(s: string): string {
  return JSON.stringify(s.slice(0, 80)).slice(1, -1);
}
